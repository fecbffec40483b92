"""`mapapp serve` as a real process: it starts, answers, and accepts a report end to end."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx


def test_mapapp_serve_runs_and_accepts_a_report(demo_db):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, MAPAPP_DATABASE_URL=demo_db)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mapapp"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90  # one worker per core, each importing the app: slow on a busy machine
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/reports",
            json={"layer": "facilities", "category": "pothole", "lat": 37.55, "lon": 126.95},
        )
        assert response.status_code == 201, response.text
        assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}/" in output  # the URL is printed for the newcomer
