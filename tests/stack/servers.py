"""Real servers on loopback for the scaling tests: moto's S3, PostgreSQL clusters, PgBouncer, nginx.

Each is a child process (or a cluster) started by a fixture and removed after it; ports come from
MAPAPP_TEST_PORTS (a range, "18700-18899" unless told), the first free one.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

_next = 0


def free_port() -> int:
    """The next free loopback port of the test range (each call moves on, so two servers never share one)."""
    global _next
    low, high = (int(p) for p in os.environ.get("MAPAPP_TEST_PORTS", "18700-18899").split("-"))
    for _ in range(high - low + 1):
        port = low + (_next % (high - low + 1))
        _next += 1
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def wait_for_port(port: int, *, seconds: float = 30, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with status {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds} s")


def start_moto(port: int, log: Path) -> subprocess.Popen[bytes]:
    """moto's standalone S3 server (the real S3 HTTP API, in memory) on 127.0.0.1:`port`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process=process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
