"""Shared set-up for benchmarks: a throw-away database on the configured server, migrated."""

import os
import re
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT.parent / "shared" / "data"


def server_url() -> str:
    return os.environ.get("MAPAPP_DATABASE_URL", "postgresql+psycopg2:///mapapp?host=/var/run/postgresql")


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """Create database `name` (dropping an old one), migrate it, point MAPAPP_DATABASE_URL at it; drop it after.

    BENCH_DATABASE or BENCH_DB_PREFIX renames it (two people benchmarking on one server, or one generated
    city shared by several benches); with BENCH_KEEP=1 it is kept,
    and with BENCH_REUSE=1 a kept one is used again as it is (a generated million reports takes minutes).
    """
    from alembic import command

    from mapapp.cli import _alembic_config
    from mapapp.core.settings import get_settings

    name = os.environ.get("BENCH_DATABASE") or os.environ.get("BENCH_DB_PREFIX", "") + name
    # No pooled connection: a bench may restart the server (bench/faults.py), and the drop must still work.
    admin = create_engine(
        make_url(server_url()).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        reuse = bool(exists) and bool(os.environ.get("BENCH_REUSE"))
        if not reuse:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url()).set(database=name).render_as_string(hide_password=False)
    os.environ["MAPAPP_DATABASE_URL"] = url
    get_settings.cache_clear()
    config = _alembic_config()
    config.attributes["url"] = url
    command.upgrade(config, "head")
    try:
        yield url
    finally:
        from mapapp.core.db import get_engine

        get_engine(url).dispose()
        if not os.environ.get("BENCH_KEEP") and not reuse:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def generated_city(reports: int, seed: int = 1) -> str:
    """The demo city with `reports` generated reports in the current database (added only when missing).

    Returns a line for the record: how long `mapapp demo generate` took and its peak memory.
    """
    from mapapp import demo
    from mapapp.core.db import transaction
    from mapapp.demo.generate import generate_reports
    from mapapp.layers import service as layers

    with transaction() as session:
        have = int(session.scalar(text("SELECT count(*) FROM reports")) or 0)
        if have >= reports:
            return f"reused {have:,} reports"
        demo.refuse_foreign_data(session)
        if not demo.has_data(session):
            demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=0)
        summary = generate_reports(session, reports=reports - have, seed=seed)
    with create_engine(os.environ["MAPAPP_DATABASE_URL"], isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))  # as after a restore: visibility map set, no autovacuum mid-run
    return f"generated {summary}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared: say how busy it was)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class RawHttp:
    """A keep-alive HTTP/1.1 GET that reads the body straight into one buffer (socket.recv_into), as a browser's
    network stack does in native code; the other side of a bench reads its bytes through libpq, also native.
    httpx parses a response in Python: tens of milliseconds on megabytes, the client's cost, not the server's."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(self.address)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {self.address[0]}\r\n{extra}\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if "content-length" not in fields:
            raise ValueError("RawHttp reads bodies with a Content-Length only")
        size = int(fields["content-length"])
        body = bytearray(size)
        view = memoryview(body)
        view[: len(rest)] = rest
        got = len(rest)
        while got < size:
            n = self.sock.recv_into(view[got:])
            if n == 0:
                raise ConnectionError("closed mid-body")
            got += n
        return status, fields, bytes(body)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def wrk(port: int, script: str, seconds: int, connections: int, threads: int = 2) -> tuple[float, str, str]:
    """Requests per second of `wrk` with a Lua `script` against the server on `port`; a summary (p50 latency,
    non-2xx answers) and whatever the script's done() printed."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            f.name,
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(f.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"50%\s+(\S+)", out)
    printed = "\n".join(line for line in out.splitlines() if line.startswith("SCRIPT "))
    return rps, f"p50 {p50.group(1) if p50 else '?'}, non-2xx {errors.group(1) if errors else 0}", printed


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock seconds of `repeat` calls."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, in the samples' unit."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


@contextmanager
def serving(url: str, workers: int | None = None) -> Iterator[int]:
    """`mapapp serve` on a free loopback port against database `url`; yields the port once it answers."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = dict(
        os.environ,
        MAPAPP_DATABASE_URL=url,
        MAPAPP_ENVIRONMENT="production",
        MAPAPP_SECRET_KEY="bench-" + "x" * 40,
        MAPAPP_RATELIMIT_ENABLED="false",  # a benchmark is one client sending as fast as it can
    )
    command = [str(Path(sys.executable).parent / "mapapp"), "serve", "--port", str(port)]
    if workers is not None:  # None: what `mapapp serve` does by default
        command += ["--workers", str(workers)]
    server = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
