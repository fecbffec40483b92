"""Public reads from a real streaming replica (pg_basebackup -R of a throw-away primary, both on loopback)."""

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from mapapp.accounts import service as accounts
from mapapp.core import db as core_db
from mapapp.core import replica
from mapapp.core.settings import get_settings
from tests.conftest import PROJECT, migrate
from tests.factories import office_id
from tests.stack import servers

PASSWORD = "correct horse battery staple"
BODY = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016}


@pytest.fixture(scope="module")
def clusters(db_url: str) -> Iterator[tuple[str, str, servers.Cluster]]:
    """A primary with the demo city and its streaming replica; the settings point at both."""
    from mapapp import demo
    from mapapp.layers import service as layers

    if not Path("/usr/lib/postgresql").exists():
        pytest.skip("needs PostgreSQL's server programs (Debian: postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="mapapp-test-replica-"))
    folder.chmod(0o755)
    primary = servers.init_primary(folder / "primary", servers.free_port())
    try:
        servers.create_database(primary, "mapapp")
        primary_url = primary.url("mapapp")
        migrate(primary_url)
        os.environ["MAPAPP_DATABASE_URL"] = primary_url
        get_settings.cache_clear()
        with core_db.transaction() as session:
            demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=20, seed=3)
            accounts.create_user(
                session,
                email="manager@mapo.example",
                name="manager",
                role="manager",
                password=PASSWORD,
                office_id=office_id(session, "11440-roads"),
            )
        standby = servers.init_replica(primary, folder / "replica", servers.free_port())
        replica_url = standby.url("mapapp")
        os.environ.update({"MAPAPP_READ_DATABASE_URL": replica_url, "MAPAPP_READ_MAX_LAG_SECONDS": "60"})
        get_settings.cache_clear()
        yield primary_url, replica_url, standby
    finally:
        for url in (os.environ.get("MAPAPP_DATABASE_URL", ""), os.environ.get("MAPAPP_READ_DATABASE_URL", "")):
            if url:
                core_db.get_engine(url).dispose()
        for name in ("MAPAPP_READ_DATABASE_URL", "MAPAPP_READ_MAX_LAG_SECONDS"):
            os.environ.pop(name, None)
        os.environ["MAPAPP_DATABASE_URL"] = db_url
        get_settings.cache_clear()
        for sub in ("replica", "primary"):
            data = folder / sub / "data"
            if data.exists():
                servers.Cluster(data, 0, folder / sub / "postgresql.log").stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def _replay(replica_url: str, action: str) -> None:
    engine = create_engine(replica_url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text(f"SELECT pg_wal_replay_{action}()"))
    engine.dispose()


def test_public_reads_come_from_the_replica_and_the_submitter_reads_their_own_write(clusters, monkeypatch):
    from mapapp.app import create_app

    primary_url, replica_url, _ = clusters
    servers.wait_for_replay(primary_url, replica_url)
    _replay(replica_url, "pause")
    try:
        with TestClient(create_app()) as citizen, TestClient(create_app()) as someone_else:
            submitted = citizen.post("/api/reports", json=BODY)
            assert submitted.status_code == 201
            assert replica.WROTE_COOKIE in submitted.cookies
            public_id = submitted.json()["id"]
            # The replica has not replayed it: others don't see it yet, so their reads come from the replica...
            assert someone_else.get(f"/api/reports/{public_id}").status_code == 404
            geojson = someone_else.get("/api/reports", params={"bbox": "126.8,37.4,127.2,37.7", "limit": 500})
            assert geojson.status_code == 200 and public_id not in geojson.text
            assert someone_else.get(f"/open311/v2/requests/{public_id}.json").status_code == 404  # Open311 GET too
            # ...while the citizen who sent it reads it (from the primary), its page too.
            assert citizen.get(f"/api/reports/{public_id}").status_code == 200
            assert citizen.get(f"/reports/{public_id}").status_code == 200
            assert citizen.get(f"/open311/v2/requests/{public_id}.json").status_code == 200
            # Staff reads and writes are on the primary.
            login = someone_else.post("/api/auth/login", json={"email": "manager@mapo.example", "password": PASSWORD})
            token = {"Authorization": f"Bearer {login.json()['token']}"}
            queue = someone_else.get("/api/offices/11440-roads/queue", headers=token)
            assert public_id in queue.text
            moved = someone_else.post(f"/api/reports/{public_id}/status", json={"to": "acknowledged"}, headers=token)
            assert moved.status_code == 200, moved.text

            # Lagging past the limit: the replica is skipped, and /readyz says so.
            time.sleep(1.5)
            monkeypatch.setenv("MAPAPP_READ_MAX_LAG_SECONDS", "1")
            get_settings.cache_clear()
            ready = someone_else.get("/readyz").json()["replica"]
            assert ready["status"] == "lagging" and ready["lag_seconds"] > 1 and not ready["used_for_reads"], ready
            assert someone_else.get(f"/api/reports/{public_id}").status_code == 200
            _replay(replica_url, "resume")
            servers.wait_for_replay(primary_url, replica_url)
            ready = someone_else.get("/readyz").json()["replica"]
            assert ready["status"] == "ok" and ready["lag_seconds"] < 1 and ready["used_for_reads"]
    finally:
        _replay(replica_url, "resume")
        monkeypatch.undo()
        get_settings.cache_clear()


def test_public_reads_carry_caching_headers_and_answer_304(clusters):
    from mapapp.app import create_app

    with TestClient(create_app()) as client:
        first = client.get("/api/reports", params={"bbox": "126.8,37.4,127.2,37.7"})
        assert first.headers["cache-control"].startswith("public, max-age=")
        assert "stale-if-error" in first.headers["cache-control"]
        again = client.get(
            "/api/reports", params={"bbox": "126.8,37.4,127.2,37.7"}, headers={"If-None-Match": first.headers["etag"]}
        )
        assert again.status_code == 304 and again.content == b""
        # Pages with a per-request CSP nonce, and staff answers, are never marked shareable.
        assert "cache-control" not in client.get("/").headers
        login = client.post("/api/auth/login", json={"email": "manager@mapo.example", "password": PASSWORD})
        token = {"Authorization": f"Bearer {login.json()['token']}"}
        assert "public" not in client.get("/api/offices/11440-roads/queue", headers=token).headers.get(
            "cache-control", ""
        )


def test_a_replica_restart_fails_no_request(clusters, monkeypatch):
    from mapapp.app import create_app

    primary_url, replica_url, standby = clusters
    monkeypatch.setenv("MAPAPP_READ_MAX_LAG_SECONDS", "60")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        public_id = client.post("/api/reports", json=BODY).json()["id"]
        client.cookies.clear()
        servers.wait_for_replay(primary_url, replica_url)
        assert client.get(f"/api/reports/{public_id}").status_code == 200
        # The process still believes the replica is fine (its last look was a moment ago) when it goes away:
        # the request that meets the dead connection is answered again from the primary.
        monkeypatch.setattr(replica, "CHECK_EVERY_SECONDS", 3600.0)
        replica.replica_state(replica_url, fresh=True)
        standby.stop("fast")
        try:
            assert client.get(f"/api/reports/{public_id}").status_code == 200
            assert client.get("/api/reports", params={"bbox": "126.8,37.4,127.2,37.7"}).status_code == 200
            assert client.get("/readyz").json()["replica"]["status"] == "unreachable"
        finally:
            standby.start()
        monkeypatch.setattr(replica, "CHECK_EVERY_SECONDS", 1.0)
        servers.wait_for_replay(primary_url, replica_url)
        assert client.get("/readyz").json()["replica"]["status"] == "ok"
        assert client.get(f"/api/reports/{public_id}").status_code == 200
