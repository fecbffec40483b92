"""Test databases: one migrated template per run; each test in a rolled-back transaction, or in a
fresh database cloned from the template when it must commit (CLI commands, concurrency)."""

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Connection, Row, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

os.environ["MAPAPP_ENVIRONMENT"] = "test"
os.environ.setdefault("MAPAPP_MEDIA_DIR", tempfile.mkdtemp(prefix="mapapp-test-media-"))
os.environ["MAPAPP_TILE_URL"] = ""  # tests are offline: no base-map tiles, the map must work without them
os.environ["MAPAPP_MAP_REFRESH_SECONDS"] = "2"
# Tests rebuild the stats view themselves (mapapp.stats.service.refresh): no rebuild started behind their back.
os.environ["MAPAPP_STATS_REFRESH_SECONDS"] = "0"
# The suite submits, supports and logs in many times from one test client: generous rate limits here;
# tests/ratelimit and tests/accounts lower them for themselves.
os.environ.update(
    {f"MAPAPP_RATELIMIT_{name}_PER_HOUR": "1000000" for name in ("SUBMIT", "OPEN311", "SUPPORT", "LOGIN", "REOPEN")}
    | {f"MAPAPP_RATELIMIT_{name}_BURST": "100000" for name in ("SUBMIT", "OPEN311", "SUPPORT", "LOGIN", "REOPEN")}
    | {"MAPAPP_RATELIMIT_EMAIL_PER_HOUR": "1000000", "MAPAPP_RATELIMIT_EMAIL_BURST": "100000"}
)

from mapapp.core import db as core_db
from mapapp.core.settings import get_settings

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PROJECT = Path(__file__).resolve().parents[1]
SERVER_URL = os.environ.get("MAPAPP_TEST_DATABASE_URL") or os.environ.get(
    "MAPAPP_DATABASE_URL", "postgresql+psycopg2:///postgres?host=/var/run/postgresql"
)
RUN_ID = uuid.uuid4().hex[:8]


def shared_data(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs the shared test data ({path}); clone it beside the project to run this test")
    return path


def database_url(name: str) -> str:
    return make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)


def sql(url: str, statement: str, **params: Any) -> list[Row[Any]]:
    """Run one statement on the database at `url` in a transaction of its own, committed; its rows, if any.
    For the databases the application under test writes to and reads from (a module's demo database)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def _admin():  # type: ignore[no-untyped-def]
    return create_engine(database_url("postgres"), isolation_level="AUTOCOMMIT")


def use_database(url: str) -> None:
    """Point the settings, engine and session caches at `url`."""
    os.environ["MAPAPP_DATABASE_URL"] = url
    get_settings.cache_clear()


def migrate(url: str, revision: str = "head", down: bool = False) -> None:
    from alembic import command

    from mapapp.cli import _alembic_config

    config = _alembic_config()
    config.attributes["url"] = url
    (command.downgrade if down else command.upgrade)(config, revision)


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    name = f"mapapp_test_{RUN_ID}_tpl"
    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    migrate(database_url(name))
    core_db.get_engine(database_url(name)).dispose()
    yield name
    with admin.connect() as conn:
        rows = conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"mapapp_test_{RUN_ID}%"}
        )
        for (db,) in rows.all():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    admin.dispose()


def clone_template(template: str, name: str) -> str:
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    return database_url(name)


@pytest.fixture(scope="session")
def db_url(template_db: str) -> str:
    url = clone_template(template_db, f"mapapp_test_{RUN_ID}")
    use_database(url)
    return url


@pytest.fixture
def connection(db_url: str) -> Iterator[Connection]:
    conn = core_db.get_engine(db_url).connect()
    trans = conn.begin()
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def session(connection: Connection) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
def fresh_db(template_db: str, db_url: str) -> Iterator[str]:
    """A database of its own, migrated, for code that commits; the shared test database is restored after."""
    url = clone_template(template_db, f"mapapp_test_{RUN_ID}_{uuid.uuid4().hex[:6]}")
    use_database(url)
    yield url
    core_db.get_engine(url).dispose()
    use_database(db_url)
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


# --- the real Seoul districts, imported once per module inside a transaction rolled back at the end ---


def load_seoul(session: Session) -> None:
    """The city, the 25 real districts, the layers, and a roads and sanitation office in every district."""
    from mapapp import jurisdictions
    from mapapp.layers import service as layers
    from mapapp.offices import service as offices

    path = shared_data("boundaries", "seoul_gu_2015.geojson")
    layers.sync_layers(session, layers.load_layer_files(PROJECT / "layers"))
    jurisdictions.create_jurisdiction(session, code="11", name_ko="서울특별시", name_en="Seoul", level="city")
    jurisdictions.import_boundaries(
        session, path=path, level="district", code_field="SIG_CD", name_field="SIG_KOR_NM", name_en_field="SIG_ENG_NM"
    )
    for dept, ko in (
        ("traffic", "교통운영과"),
        ("water", "물순환안전과"),
        ("transit", "버스정책과"),
        ("safety", "재난안전과"),
    ):
        offices.create_office(session, jurisdiction_code="11", department=dept, name_ko=f"서울시 {ko}", name_en=dept)
    for (code,) in session.execute(text("SELECT code FROM jurisdictions WHERE level = 'district'")):
        for dept in ("roads", "sanitation", "safety"):
            offices.create_office(
                session, jurisdiction_code=code, department=dept, name_ko=f"{code} {dept}", name_en=dept
            )
    session.flush()


@pytest.fixture(scope="module")
def seoul_connection(db_url: str) -> Iterator[Connection]:
    conn = core_db.get_engine(db_url).connect()
    trans = conn.begin()
    with Session(bind=conn, join_transaction_mode="create_savepoint") as s:
        load_seoul(s)
        s.commit()  # releases the savepoint only; the outer transaction is rolled back below
    yield conn
    trans.rollback()
    conn.close()


@pytest.fixture
def seoul(seoul_connection: Connection) -> Iterator[Session]:
    """A session over the real Seoul districts; its own changes are rolled back after the test."""
    with Session(bind=seoul_connection, join_transaction_mode="create_savepoint") as s:
        yield s
        s.rollback()


# --- the demo city, committed, shared by the tests of one module that talk HTTP -----------------------


@pytest.fixture(scope="module")
def demo_db(template_db: str, db_url: str) -> Iterator[str]:
    """A database of its own with the demo city loaded, for a module of HTTP tests; dropped after."""
    from mapapp import demo
    from mapapp.core.db import transaction
    from mapapp.layers import service as layers

    url = clone_template(template_db, f"mapapp_test_{RUN_ID}_demo_{uuid.uuid4().hex[:6]}")
    use_database(url)
    with transaction() as session:
        demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=60, seed=7)
    yield url
    core_db.get_engine(url).dispose()
    use_database(db_url)
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def client(demo_db: str) -> Iterator["TestClient"]:
    from fastapi.testclient import TestClient

    from mapapp.app import create_app

    with TestClient(create_app()) as c:
        yield c


@contextmanager
def running_app(log_level: str = "warning") -> Iterator[str]:
    """The real application (uvicorn, in a thread) on a free loopback port, over the current settings."""
    import socket
    import threading
    import time

    import uvicorn

    from mapapp.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(demo_db: str) -> Iterator[str]:
    """The real application on a free loopback port, for clients that speak HTTP themselves."""
    with running_app() as url:
        yield url
