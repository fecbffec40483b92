"""Shared set-up for benchmarks: a throw-away database on the configured server, migrated."""

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PROJECT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT.parent / "shared" / "data"


def server_url() -> str:
    return os.environ.get("MAPAPP_DATABASE_URL", "postgresql+psycopg2:///mapapp?host=/var/run/postgresql")


@contextmanager
def bench_database(name: str) -> Iterator[str]:
    """Create database `name` (dropping an old one), migrate it, point MAPAPP_DATABASE_URL at it; drop it after."""
    from alembic import command

    from mapapp.cli import _alembic_config
    from mapapp.core.settings import get_settings

    admin = create_engine(make_url(server_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
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
        if not os.environ.get("BENCH_KEEP"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
def serving(url: str, workers: int = 1) -> Iterator[int]:
    """`mapapp serve` on a free loopback port against database `url`; yields the port once it answers."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = dict(
        os.environ, MAPAPP_DATABASE_URL=url, MAPAPP_ENVIRONMENT="production", MAPAPP_SECRET_KEY="bench-" + "x" * 40
    )
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mapapp"), "serve", "--port", str(port), "--workers", str(workers)],
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
