"""Accepted input is never lost: dropped database connections, and files left by failed submissions."""

import os
import time

from sqlalchemy import create_engine, text

from mapapp.core.db import transaction
from mapapp.photos import cleanup, get_storage
from tests.factories import make_photo


def _kill_connections(url: str) -> int:
    """What a database restart does to every pooled connection of the application."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


def test_reports_are_accepted_after_the_database_dropped_every_connection(client, demo_db):
    body = {"layer": "facilities", "category": "pothole", "lat": 37.55, "lon": 126.95}
    assert client.post("/api/reports", json=body).status_code == 201  # the pool now holds live connections
    assert _kill_connections(demo_db) >= 1
    after = client.post("/api/reports", json=body | {"description": "after the restart"})
    assert after.status_code == 201, after.text
    assert client.get(f"/api/reports/{after.json()['id']}").json()["properties"]["description"] == "after the restart"


def test_cleanup_removes_only_old_unreferenced_files(client, demo_db, tmp_path, monkeypatch):
    from mapapp.core.settings import get_settings

    monkeypatch.setenv("MAPAPP_MEDIA_DIR", str(tmp_path / "media"))  # a store of its own: other tests' files
    get_settings.cache_clear()  # belong to other databases
    response = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": "pothole", "lat": "37.55", "lon": "126.95"},
        files=[("photos", ("p.jpg", make_photo(color=(1, 2, 3)), "image/jpeg"))],
    )
    assert response.status_code == 201
    storage = get_storage()
    orphan, fresh_orphan = "ab/" + "a" * 64 + ".jpg", "ab/" + "b" * 64 + ".jpg"
    storage.put(orphan, b"left behind by a failed transaction")
    storage.put(fresh_orphan, b"a submission still in its transaction")
    old = time.time() - 7200
    os.utime(storage.root / orphan, (old, old))  # type: ignore[attr-defined]
    referenced = set(storage.stored_keys()) - {orphan, fresh_orphan}
    for key in referenced:
        os.utime(storage.root / key, (old, old))  # type: ignore[attr-defined]

    with transaction() as session:
        removed = cleanup.remove_unreferenced(session, older_than_seconds=3600)

    remaining = set(storage.stored_keys())
    assert removed == 1 and orphan not in remaining and fresh_orphan in remaining
    assert referenced <= remaining
    get_settings.cache_clear()
