"""`mapapp backup` and `mapapp restore` as an operator uses them: a committed database with reports and real
photo files, backed up, restored into a new empty database and a new empty photo store, and found whole."""

import hashlib
import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from mapapp.core.settings import get_settings
from tests.conftest import PROJECT, RUN_ID, _admin, database_url
from tests.factories import make_photo


def rows(url: str, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        result = [tuple(r) for r in conn.execute(text(sql))]
    engine.dispose()
    return result


def use(monkeypatch: pytest.MonkeyPatch, url: str, media: Path) -> None:
    monkeypatch.setenv("MAPAPP_DATABASE_URL", url)
    monkeypatch.setenv("MAPAPP_MEDIA_DIR", str(media))
    get_settings.cache_clear()


def mapapp(*args: str) -> tuple[int, str]:
    from mapapp.cli import app

    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new database as `createdb` makes it: no schema, no PostGIS."""
    name = f"mapapp_test_{RUN_ID}_restore_{uuid.uuid4().hex[:6]}"
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield database_url(name)
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


REPORTS = "SELECT public_id, description, status, ST_AsText(geom) FROM reports ORDER BY public_id"
PHOTOS = "SELECT r.public_id, p.position, p.display_key, p.thumb_key FROM photos p JOIN reports r ON r.id = p.report_id"


def test_a_backup_restores_into_an_empty_database_and_store_with_every_report_and_photo(
    fresh_db, empty_database, tmp_path, monkeypatch
):
    from fastapi.testclient import TestClient

    from mapapp import demo
    from mapapp.app import create_app
    from mapapp.core.db import transaction
    from mapapp.layers import service as layers

    media, restored_media, archive = tmp_path / "media", tmp_path / "restored-media", tmp_path / "city.tar"
    use(monkeypatch, fresh_db, media)
    with transaction() as session:
        demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=25, seed=5)
    with TestClient(create_app()) as client:
        for n, color in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
            response = client.post(
                "/api/reports",
                data={"layer": "facilities", "category": "pothole", "lat": "37.5663", "lon": "126.9016"},
                files=[("photos", (f"p{n}.jpg", make_photo(color=color), "image/jpeg"))],
            )
            assert response.status_code == 201, response.text
    photos = rows(fresh_db, PHOTOS)  # the three above, and the demo's (placeholder images in the store)
    assert len(photos) >= 3
    files = {k for *_, d, t in photos for k in (d, t)}
    reports = len(rows(fresh_db, REPORTS))
    stray = media / "ff" / "stray.jpg"  # a file no row names (a failed submission's): not part of the backup
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"\xff\xd8 stray")

    code, output = mapapp("backup", str(archive))
    assert code == 0, output
    assert f"{reports} reports, {len(photos)} photos, {len(files)} files" in output

    use(monkeypatch, empty_database, restored_media)
    code, output = mapapp("restore", str(archive))
    assert code == 0, output
    assert rows(empty_database, REPORTS) == rows(fresh_db, REPORTS)
    assert sorted(rows(empty_database, PHOTOS)) == sorted(photos)
    for *_, display, thumb in photos:
        for key in (display, thumb):
            assert (restored_media / key).read_bytes() == (media / key).read_bytes()  # byte-identical
    restored_files = {str(p.relative_to(restored_media)) for p in restored_media.rglob("*") if p.is_file()}
    assert restored_files == files  # exactly those: no stray file
    assert rows(empty_database, "SELECT version_num FROM alembic_version") == rows(
        fresh_db, "SELECT version_num FROM alembic_version"
    )

    # The restored city serves: a report with its photo, the photo file over HTTP.
    with TestClient(create_app()) as client:
        public_id, _, display, _ = photos[0]
        report = client.get(f"/api/reports/{public_id}")
        assert report.status_code == 200
        photo = client.get(f"/media/{display}")
        assert photo.status_code == 200
        assert hashlib.sha256(photo.content).digest() == hashlib.sha256((media / display).read_bytes()).digest()

    # Twice: the database is not empty any more; nothing is touched.
    code, output = mapapp("restore", str(archive))
    assert code == 2 and "is not empty" in output and len(output.strip().splitlines()) == 1


def test_restore_refuses_a_photo_store_that_is_not_empty(fresh_db, empty_database, tmp_path, monkeypatch):
    archive = tmp_path / "empty-city.tar"
    use(monkeypatch, fresh_db, tmp_path / "media")
    assert mapapp("backup", str(archive))[0] == 0
    occupied = tmp_path / "occupied"
    (occupied / "ab").mkdir(parents=True)
    (occupied / "ab" / "x.jpg").write_bytes(b"x")
    use(monkeypatch, empty_database, occupied)
    code, output = mapapp("restore", str(archive))
    assert code == 2 and "photo store" in output and "not empty" in output
    assert rows(empty_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]


def test_restore_refuses_a_damaged_archive_and_changes_nothing(fresh_db, empty_database, tmp_path, monkeypatch):
    archive, damaged = tmp_path / "city.tar", tmp_path / "damaged.tar"
    media = tmp_path / "media"
    (media / "ab").mkdir(parents=True)
    use(monkeypatch, fresh_db, media)
    assert mapapp("backup", str(archive))[0] == 0
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as out:
        for member in source:
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "database.dump":
                data = data[:-100] + b"\0" * 100
            out.addfile(member, io.BytesIO(data))
    use(monkeypatch, empty_database, tmp_path / "new-media")
    code, output = mapapp("restore", str(damaged))
    assert code == 2 and "damaged" in output
    assert rows(empty_database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    assert not (tmp_path / "new-media").exists() or not any((tmp_path / "new-media").iterdir())
