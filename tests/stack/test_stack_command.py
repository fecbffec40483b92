"""`mapapp stack up` starts the whole topology in one folder and prints the proxy's URL; `stack down` removes it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from mapapp.stack.topology import BUCKET, S3_CREDENTIALS
from tests.factories import make_photo
from tests.stack import servers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


@pytest.mark.slow
def test_stack_up_serves_through_nginx_and_stack_down_removes_everything(tmp_path):
    if not (shutil.which("nginx") and shutil.which("pgbouncer")):
        pytest.skip("needs Debian's nginx and pgbouncer (make test installs them)")
    cli = [sys.executable, "-m", "mapapp.cli", "stack"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}  # nothing of the test database
    up = subprocess.run(
        [*cli, "up", "--base-port", str(servers.free_port())], env=env, capture_output=True, text=True, timeout=600
    )
    assert up.returncode == 0, up.stderr + up.stdout
    proxy = up.stdout.strip().splitlines()[-1]
    folder = Path(up.stdout.split("stack up in ")[1].split(";")[0])
    stack = json.loads((folder / "stack.json").read_text())
    try:
        assert proxy == f"http://127.0.0.1:{stack['ports']['nginx']}"
        assert set(stack["pids"]) == {"s3", "pgbouncer", "app0", "app1", "worker", "nginx"}
        assert all(_alive(pid) for pid in stack["pids"].values())
        assert all((folder / name / "data" / "postmaster.pid").exists() for name in ("primary", "replica"))
        ready = httpx.get(f"{proxy}/readyz").json()
        assert ready["replica"]["status"] == "ok"
        # A citizen reports with a photo through nginx; the photo is in the bucket and served back.
        sent = httpx.post(
            f"{proxy}/api/reports",
            data={"layer": "facilities", "category": "pothole"},
            files=[("photos", ("road.jpg", make_photo(lat=37.5172, lon=127.0473), "image/jpeg"))],
            timeout=30,
        )
        assert sent.status_code == 201, sent.text
        report = httpx.get(f"{proxy}/api/reports/{sent.json()['id']}", cookies=sent.cookies).json()
        url = report["properties"]["photos"][0]["url"]
        assert httpx.get(f"{proxy}{url}").headers["content-type"] == "image/jpeg"
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{stack['ports']['s3']}",
            region_name="us-east-1",
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        assert s3.head_object(Bucket=BUCKET, Key=url.removeprefix("/media/"))["ContentLength"] > 0
        # The map's reads are cached by nginx.
        bbox = {"bbox": "126.8,37.4,127.2,37.7"}
        httpx.get(f"{proxy}/api/reports", params=bbox)
        assert httpx.get(f"{proxy}/api/reports", params=bbox).headers["x-cache"] == "HIT"
    finally:
        down = subprocess.run([*cli, "down"], env=env, capture_output=True, text=True, timeout=300)
    assert down.returncode == 0, down.stderr + down.stdout
    assert not folder.exists()
    assert not any(_alive(pid) for pid in stack["pids"].values())
