"""Photos in an S3 bucket, against moto's real S3 HTTP server on loopback (never a mock of boto3)."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from mapapp.core.db import transaction
from mapapp.photos import cleanup, get_storage, process_photo
from mapapp.photos.s3 import BucketNotVersioned, S3PhotoStorage, make_client, migrate_local_to_s3
from mapapp.photos.storage import LocalPhotoStorage
from tests.factories import make_photo

KEY = "ab/" + "ab" * 32 + ".jpg"


def _storage(moto_url: str, bucket: str) -> S3PhotoStorage:
    return S3PhotoStorage(make_client(endpoint_url=moto_url, region="us-east-1"), bucket)


def test_put_is_atomic_and_content_addressed(moto_url, bucket):
    storage = get_storage()
    assert isinstance(storage, S3PhotoStorage)
    storage.put(KEY, b"jpeg bytes")
    assert storage.get(KEY) == b"jpeg bytes"
    assert storage.stored_keys() == [KEY]  # the temporary key is gone
    first = storage.client.head_object(Bucket=bucket, Key=KEY)["LastModified"]
    time.sleep(1.1)  # S3 times have one-second resolution
    storage.put(KEY, b"jpeg bytes")  # the same photo again: refreshed, still one object, one version
    assert storage.client.head_object(Bucket=bucket, Key=KEY)["LastModified"] > first
    versions = storage.client.list_object_versions(Bucket=bucket)
    assert [v["Key"] for v in versions.get("Versions", [])] == [KEY]
    assert storage.get("cd/missing.jpg") is None


def test_a_bucket_without_versioning_is_refused_with_the_fix(moto_url):
    client = make_client(endpoint_url=moto_url, region="us-east-1")
    client.create_bucket(Bucket="mapapp-unversioned")
    with pytest.raises(BucketNotVersioned, match="put-bucket-versioning"):
        S3PhotoStorage(client, "mapapp-unversioned").put(KEY, b"x")


def test_cleanup_deletes_only_the_version_it_judged_old(moto_url, bucket):
    """A submission writing the same photo again between the cleanup's look and its delete keeps the photo."""
    storage = _storage(moto_url, bucket)
    storage.put(KEY, b"same photo")

    class RacingStorage(S3PhotoStorage):
        def _head(self, key):  # type: ignore[no-untyped-def]
            head = super()._head(key)
            time.sleep(1.1)
            storage.put(key, b"same photo")  # the racing submission, after the cleanup looked
            return head

    racing = RacingStorage(storage.client, bucket)
    assert racing.delete_if_older(KEY, cutoff=time.time() + 60) is True  # it deleted the old version...
    assert storage.get(KEY) == b"same photo"  # ...and the rewrite survives
    assert storage.delete_if_older(KEY, cutoff=time.time() - 3600) is False  # young: kept
    assert storage.delete_if_older(KEY, cutoff=time.time() + 60) is True
    assert storage.get(KEY) is None and storage.stored_keys() == []


def test_cleanup_of_the_bucket_keeps_named_photos_and_removes_old_orphans(moto_url, bucket, fresh_db, monkeypatch):
    from mapapp.reports import service

    photo = make_photo(size=(800, 600), color=(40, 90, 200))
    draft = service.ReportDraft(layer="facilities", category="streetlight-out", lat=37.5663, lon=126.9016)
    from mapapp import demo
    from mapapp.layers import service as layers
    from tests.conftest import PROJECT

    with transaction() as session:
        demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=0, seed=1)
    with transaction() as session:
        service.submit_report(session, draft=draft, photo_files=[photo])
    storage = get_storage()
    with transaction() as session:
        named = {k for row in session.execute(text("SELECT display_key, thumb_key FROM photos")) for k in row}
    assert len(named) == 2 and named <= set(storage.stored_keys())  # display and thumbnail, in the bucket
    storage.put("ee/" + "e" * 64 + ".jpg", b"orphan of a failed submission")
    orphans = set(storage.stored_keys()) - named  # ours, and the demo's sample photos that no report uses
    monkeypatch.setattr(time, "time", lambda: 4_000_000_000.0)  # far in the future: everything is past the grace
    with transaction() as session:
        assert cleanup.remove_unreferenced(session) == len(orphans)
    assert set(storage.stored_keys()) == named


def test_submitted_photos_go_to_the_bucket_and_are_served_with_revalidated_caching(moto_url, bucket, demo_db, tmp_path):
    from mapapp.app import create_app

    with TestClient(create_app()) as client:
        response = client.post(
            "/api/reports",
            data={"layer": "facilities", "category": "pothole", "description": "s3"},
            files=[("photos", ("road.jpg", make_photo(lat=37.5172, lon=127.0473), "image/jpeg"))],
        )
        assert response.status_code == 201, response.text
        props = client.get(f"/api/reports/{response.json()['id']}").json()["properties"]
        url = props["photos"][0]["url"]
        key = url.removeprefix("/media/")
        assert get_storage().get(key) is not None
        shown = client.get(url)
        assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
        # Cached like the other public reads, not for a year: a moderator may hide the photo later.
        assert shown.headers["cache-control"].startswith("public, max-age=30,")
        assert shown.content == get_storage().get(key)
        again = client.get(url, headers={"If-None-Match": shown.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert client.get("/media/ab/" + "0" * 64 + ".jpg").status_code == 404
        assert client.get("/media/../../etc/passwd").status_code == 404


def test_migrate_copies_the_local_store_and_resumes_after_an_interruption(moto_url, bucket, tmp_path, monkeypatch):
    local = LocalPhotoStorage(tmp_path / "media")
    photos = [process_photo(make_photo(size=(300, 200), color=(i * 20, 50, 90))) for i in range(6)]
    keys = set()
    for p in photos:
        for key, data in ((p.display_key, p.display), (p.thumbnail_key, p.thumbnail)):
            local.put(key, data)
            keys.add(key)
    target = _storage(moto_url, bucket)

    class Interrupted(Exception):
        pass

    def stop_after_five(done: int, total: int) -> None:
        if done == 5:
            raise Interrupted

    with pytest.raises(Interrupted):
        migrate_local_to_s3(local.root, target, progress=stop_after_five)
    assert len(target.stored_keys()) == 5

    monkeypatch.setenv("MAPAPP_MEDIA_DIR", str(local.root))
    from mapapp.cli import app
    from mapapp.core.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["photos", "migrate", "--to", "s3"])
    assert result.exit_code == 0, result.output
    assert f"{len(keys) - 5} photo files copied" in result.output and "5 already there" in result.output
    assert set(target.stored_keys()) == keys
    for key in keys:
        assert target.get(key) == Path(local.root / key).read_bytes()
