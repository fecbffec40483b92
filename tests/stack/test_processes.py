"""Two `mapapp serve` processes behind Debian's nginx: no state in a process, and a cache for public reads."""

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from mapapp.stack import processes
from tests.factories import office_id
from tests.stack import servers

PASSWORD = "correct horse battery staple"
BODY = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016}
BBOX = {"bbox": "126.8,37.4,127.2,37.7"}


class Topology:
    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.app_ports = [servers.free_port(), servers.free_port()]
        self.apps = [self.start_app(i) for i in range(2)]
        self.proxy_port = servers.free_port()
        config = processes.nginx_config(folder / "nginx", port=self.proxy_port, app_ports=self.app_ports)
        self.nginx = processes.start_nginx(config, self.proxy_port)

    def start_app(self, i: int):  # type: ignore[no-untyped-def]
        return processes.start_app(self.app_ports[i], self.env, self.folder / f"app{i}.log")

    def app(self, i: int) -> str:
        return f"http://127.0.0.1:{self.app_ports[i]}"

    @property
    def proxy(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    def stop(self) -> None:
        for process in [*self.apps, self.nginx]:
            processes.stop(process)


@pytest.fixture(scope="module")
def topology(demo_db: str) -> Iterator[Topology]:
    if not shutil.which("nginx"):
        pytest.skip("needs Debian's nginx (make test installs it)")
    with transaction() as session:
        accounts.create_user(
            session,
            email="manager@mapo.example",
            name="manager",
            role="manager",
            password=PASSWORD,
            office_id=office_id(session, "11440-roads"),
        )
    folder = Path(tempfile.mkdtemp(prefix="mapapp-test-processes-"))
    folder.chmod(0o755)
    env = {
        "MAPAPP_DATABASE_URL": demo_db,
        "MAPAPP_TRUSTED_PROXIES": "127.0.0.1",
        # Small enough to reach in a test: 3 submissions at once per client address, across all processes.
        "MAPAPP_RATELIMIT_SUBMIT_BURST": "3",
        "MAPAPP_RATELIMIT_SUBMIT_PER_HOUR": "1",
        "MAPAPP_MEDIA_DIR": os.environ["MAPAPP_MEDIA_DIR"],
        # Short cache lifetimes, to see revalidation and stale-if-error within the test.
        "MAPAPP_PUBLIC_CACHE_SECONDS": "2",
        "MAPAPP_PUBLIC_STALE_SECONDS": "2",
    }
    topo = Topology(folder, env)
    yield topo
    topo.stop()
    shutil.rmtree(folder, ignore_errors=True)


def test_log_in_on_one_process_and_act_on_the_other(topology):
    one, other = httpx.Client(base_url=topology.app(0)), httpx.Client(base_url=topology.app(1))
    public_id = one.post("/api/reports", json=BODY, headers={"X-Forwarded-For": "198.51.100.1"}).json()["id"]
    login = one.post("/api/auth/login", json={"email": "manager@mapo.example", "password": PASSWORD})
    assert login.status_code == 200
    # Bearer token on the other process.
    token = {"Authorization": f"Bearer {login.json()['token']}"}
    moved = other.post(f"/api/reports/{public_id}/status", json={"to": "acknowledged"}, headers=token)
    assert moved.status_code == 200, moved.text
    # The cookie session and its CSRF token, too.
    other.cookies.update(one.cookies)
    moved = other.post(
        f"/api/reports/{public_id}/status",
        json={"to": "in_progress"},
        headers={"X-CSRF-Token": login.json()["csrf_token"]},
    )
    assert moved.status_code == 200, moved.text
    # The idempotency key is known to both.
    key = {"Idempotency-Key": "two-processes", "X-Forwarded-For": "198.51.100.2"}
    first = one.post("/api/reports", json=BODY, headers=key)
    again = other.post("/api/reports", json=BODY, headers=key)
    assert first.json()["id"] == again.json()["id"] and again.headers["idempotent-replayed"] == "true"


def test_a_rate_limit_is_counted_across_both_processes(topology):
    client = {"X-Forwarded-For": "203.0.113.9"}  # one citizen, as nginx reports them
    answers = [
        httpx.post(f"{topology.app(i % 2)}/api/reports", json=BODY, headers=client).status_code for i in range(4)
    ]
    assert answers == [201, 201, 201, 429]
    # Through the proxy the same citizen (127.0.0.1 here) is counted once, whichever process answers.
    through = [httpx.post(f"{topology.proxy}/api/reports", json=BODY).status_code for _ in range(4)]
    assert through == [201, 201, 201, 429]


def test_the_proxy_caches_public_reads_revalidates_and_serves_stale_while_the_app_is_down(topology):
    with httpx.Client(base_url=topology.proxy) as proxy:
        first = proxy.get("/api/reports", params=BBOX)
        assert first.status_code == 200 and first.headers["x-cache"] in ("MISS", "EXPIRED", "STALE")
        second = proxy.get("/api/reports", params=BBOX)
        assert second.headers["x-cache"] == "HIT" and second.content == first.content
        # Staff answers are never cached.
        login = proxy.post("/api/auth/login", json={"email": "manager@mapo.example", "password": PASSWORD})
        token = {"Authorization": f"Bearer {login.json()['token']}"}
        assert proxy.get("/api/offices/11440-roads/queue", headers=token).headers.get("x-cache") is None
        assert proxy.get("/api/reports", params=BBOX, headers=token).headers["x-cache"] == "BYPASS"
        # Past max-age the copy is revalidated (If-None-Match: the app answers 304, or it serves stale meanwhile).
        time.sleep(6)
        later = proxy.get("/api/reports", params=BBOX)
        assert later.status_code == 200 and later.headers["x-cache"] in ("REVALIDATED", "STALE", "EXPIRED")
        # Both app processes down: the cached public reads still answer.
        for process in topology.apps:
            processes.stop(process)
        try:
            time.sleep(6)  # past max-age and stale-while-revalidate: only stale-if-error allows this copy now
            down = proxy.get("/api/reports", params=BBOX)
            assert down.status_code == 200 and down.headers["x-cache"] in ("STALE", "HIT", "UPDATING")
            assert down.content == first.content
            never_cached = proxy.get("/api/reports", params={"bbox": "126.9,37.5,127.0,37.6"})
            assert never_cached.status_code == 502
        finally:
            topology.apps = [topology.start_app(i) for i in range(2)]
        assert proxy.get("/healthz").status_code == 200


def test_the_production_nginx_rules_are_the_ones_tested_here():
    deployed = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "mapapp-locations.conf"
    assert deployed.read_text(encoding="utf-8") == processes.LOCATIONS
