"""The API's core flows through Debian's PgBouncer in transaction pooling mode, started by the fixture."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2.errors
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mapapp import routing
from mapapp.accounts import service as accounts
from mapapp.core import db as core_db
from mapapp.core.settings import get_settings
from tests.factories import make_photo, office_id
from tests.stack import servers

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def bouncer_url(demo_db: str) -> Iterator[str]:
    """The demo database through a PgBouncer (transaction mode, two server connections) on a loopback port."""
    if not shutil.which("pgbouncer"):
        pytest.skip("needs Debian's pgbouncer (make test installs it)")
    folder = Path(tempfile.mkdtemp(prefix="mapapp-test-pgbouncer-"))
    url = make_url(demo_db)
    port = servers.free_port()
    config = servers.pgbouncer_config(
        folder,
        port=port,
        server_host=url.query.get("host", "/var/run/postgresql"),  # type: ignore[arg-type]
        server_port=url.port or 5432,
        server_user=url.username or os.environ.get("USER") or "root",
        pool_size=2,
    )
    process = servers.start_pgbouncer(config, port)
    yield f"postgresql+psycopg2://{url.username or 'root'}@127.0.0.1:{port}/{url.database}"
    servers.stop(process)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def through_bouncer(bouncer_url: str, demo_db: str, monkeypatch) -> Iterator[str]:
    monkeypatch.setenv("MAPAPP_DATABASE_URL", bouncer_url)
    monkeypatch.setenv("MAPAPP_DATABASE_POOLER", "pgbouncer-transaction")
    get_settings.cache_clear()
    yield bouncer_url
    core_db.get_engine(bouncer_url).dispose()
    monkeypatch.undo()
    get_settings.cache_clear()


# Outside every district: route() cannot place it in memory and sends its SQL statement (prepared, unless
# the pooler forbids it), which finds no district within the tolerance and refuses the point.
FAR = (127.9, 36.0)


def test_a_prepared_statement_breaks_behind_transaction_pooling(bouncer_url, demo_db, monkeypatch):
    """Why the setting exists: PgBouncer hands the next transaction another server connection, without the
    PREPARE. (PgBouncer reuses the server connection released last: a second client takes it meanwhile.)"""
    monkeypatch.setenv("MAPAPP_DATABASE_URL", bouncer_url)
    monkeypatch.setenv("MAPAPP_DATABASE_POOLER", "none")
    get_settings.cache_clear()
    engine = create_engine(bouncer_url)  # another client of PgBouncer
    try:
        with pytest.raises(routing.OutsideServiceArea), core_db.transaction() as first:
            routing.route(first, lon=FAR[0], lat=FAR[1], category="pothole")  # PREPAREd on server A
        with engine.connect() as other, other.begin():
            other.execute(text("SELECT 1"))  # holds server A
            missing = pytest.raises(psycopg2.errors.InvalidSqlStatementName, match=r"mapapp_route_v5\" does not")
            with missing, core_db.transaction() as second:  # the first client again, now on server B
                routing.route(second, lon=FAR[0], lat=FAR[1], category="pothole")
    finally:
        engine.dispose()
        core_db.get_engine(bouncer_url).dispose()
        get_settings.cache_clear()


def test_routing_falls_back_to_a_plain_statement(through_bouncer):
    with core_db.transaction() as session:
        routing.route(session, lon=126.9016, lat=37.5663, category="pothole")
    engine = create_engine(through_bouncer)
    with engine.connect() as other, other.begin():
        other.execute(text("SELECT 1"))  # the same move as above: the next transaction is on another server
        for _ in range(4):
            with core_db.transaction() as session:
                decision = routing.route(session, lon=126.9016, lat=37.5663, category="pothole")
                assert decision.office is not None and decision.office.slug == "11440-roads"
                with pytest.raises(routing.OutsideServiceArea):  # the SQL statement, sent plain
                    routing.route(session, lon=FAR[0], lat=FAR[1], category="pothole")
    engine.dispose()


def test_core_flows_through_pgbouncer(through_bouncer):
    from mapapp.app import create_app

    with core_db.transaction() as session:
        accounts.create_user(
            session,
            email="manager@mapo.example",
            name="manager",
            role="manager",
            password=PASSWORD,
            office_id=office_id(session, "11440-roads"),
        )
    with TestClient(create_app()) as client:
        # Submissions, many at once over two server connections: JSON, multipart with a photo, idempotent retry.
        body = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016}
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(lambda i: client.post("/api/reports", json=body | {"description": f"#{i}"}), range(24))
            )
        assert [a.status_code for a in answers] == [201] * 24
        photo = client.post(
            "/api/reports",
            data={"layer": "facilities", "category": "pothole"},
            files=[("photos", ("road.jpg", make_photo(lat=37.5172, lon=127.0473), "image/jpeg"))],
        )
        assert photo.status_code == 201, photo.text
        first = client.post("/api/reports", json=body, headers={"Idempotency-Key": "bouncer-1"})
        again = client.post("/api/reports", json=body, headers={"Idempotency-Key": "bouncer-1"})
        assert first.json()["id"] == again.json()["id"] and again.headers["Idempotent-Replayed"] == "true"
        # Reads: GeoJSON, one report, tiles, Open311.
        public_id = answers[0].json()["id"]
        geojson = client.get("/api/reports", params={"bbox": "126.8,37.4,127.2,37.7", "limit": 500})
        assert geojson.status_code == 200 and public_id in geojson.text
        assert client.get(f"/api/reports/{public_id}").json()["properties"]["office"] == "11440-roads"
        assert client.get("/tiles/facilities/12/3492/1587.mvt").status_code in (200, 204)
        assert client.get("/open311/v2/requests.json").status_code == 200
        # "Me too", then staff: log in, move the report along.
        support = client.post(f"/api/reports/{public_id}/support", json={"supporter": "browser-token-123456"})
        assert support.status_code == 200, support.text
        login = client.post("/api/auth/login", json={"email": "manager@mapo.example", "password": PASSWORD})
        assert login.status_code == 200
        token = login.json()["token"]
        moved = client.post(
            f"/api/reports/{public_id}/status",
            json={"to": "acknowledged"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert moved.status_code == 200, moved.text
        queue = client.get("/api/offices/11440-roads/queue", headers={"Authorization": f"Bearer {token}"})
        assert queue.status_code == 200 and public_id in queue.text
        assert client.get("/readyz").status_code == 200
