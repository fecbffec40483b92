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


def as_service_user(argv: list[str]) -> list[str]:
    """PgBouncer and PostgreSQL refuse to run as root: run them as `postgres` when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


def open_to_service_user(path: Path) -> None:
    if os.geteuid() == 0:
        import shutil

        shutil.chown(path, "postgres", "postgres")


def pgbouncer_config(
    folder: Path, *, port: int, server_host: str, server_port: int, server_user: str, pool_size: int = 20
) -> Path:
    """A transaction-pooling PgBouncer config in `folder`: every database of the server, one login role."""
    config = folder / "pgbouncer.ini"
    config.write_text(
        f"""[databases]
* = host={server_host} port={server_port} user={server_user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
""",
        encoding="utf-8",
    )
    open_to_service_user(folder)
    open_to_service_user(config)
    return config


def start_pgbouncer(config: Path) -> subprocess.Popen[bytes]:
    import configparser

    parser = configparser.ConfigParser()
    parser.read(config)
    port = int(parser["pgbouncer"]["listen_port"])
    process = subprocess.Popen(
        as_service_user(["pgbouncer", str(config)]),
        stdout=(config.parent / "pgbouncer.out").open("ab"),
        stderr=subprocess.STDOUT,
    )
    wait_for_port(port, process=process)
    return process
