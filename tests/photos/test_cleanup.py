"""Photo cleanup that can't race a committing report, and the decode budget's refusal."""

import os
import time

import pytest

from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.photos import PhotoWorkBusy, cleanup, get_storage, process_photo
from mapapp.photos.budget import decode_budget
from mapapp.reports import service
from tests.factories import make_photo

GRACE = 3600


def test_cleanup_between_the_file_write_and_the_commit_keeps_the_files(client, demo_db):
    photo = make_photo(size=(1000, 700), color=(12, 200, 90))
    processed = process_photo(photo)
    storage = get_storage()
    # A stray from long ago with the very same content (an earlier failed submission, say).
    old = time.time() - 10 * GRACE
    for key, data in ((processed.display_key, processed.display), (processed.thumbnail_key, processed.thumbnail)):
        storage.put(key, data)
        os.utime(storage.root / key, (old, old))  # type: ignore[attr-defined]

    draft = service.ReportDraft(layer="facilities", category="streetlight-out", lat=37.5663, lon=126.9016)
    with transaction() as session:
        result = service.submit_report(session, draft=draft, photo_files=[photo])
        # The worker's scheduled cleanup runs now, while the report is not yet committed.
        with transaction() as other:
            cleanup.remove_unreferenced(other, older_than_seconds=get_settings().photo_orphan_grace_seconds)
    detail = client.get(f"/api/reports/{result.public_id}").json()
    urls = [u for p in detail["properties"]["photos"] for u in (p["url"], p["thumbnail"])]
    assert len(urls) == 2
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_cleanup_removes_old_orphans_but_never_a_file_younger_than_the_grace(client, demo_db):
    storage = get_storage()
    young, old = "ab/young-orphan.jpg", "ab/old-orphan.jpg"
    storage.put(young, b"young")
    storage.put(old, b"old")
    stamp = time.time() - 10 * GRACE
    os.utime(storage.root / old, (stamp, stamp))  # type: ignore[attr-defined]
    with transaction() as session:
        # Asked for zero seconds, it still keeps the grace.
        cleanup.remove_unreferenced(session, older_than_seconds=0)
    assert (storage.root / young).exists()  # type: ignore[attr-defined]
    assert not (storage.root / old).exists()  # type: ignore[attr-defined]


def test_put_of_an_existing_file_refreshes_its_time(tmp_path):
    from mapapp.photos.storage import LocalPhotoStorage

    storage = LocalPhotoStorage(tmp_path)
    storage.put("aa/x.jpg", b"same")
    os.utime(tmp_path / "aa/x.jpg", (1_000_000, 1_000_000))
    assert storage.delete_if_older("aa/x.jpg", time.time() - GRACE)  # old: removable
    storage.put("aa/x.jpg", b"same")
    os.utime(tmp_path / "aa/x.jpg", (1_000_000, 1_000_000))
    storage.put("aa/x.jpg", b"same")  # written again: young
    assert storage.delete_if_older("aa/x.jpg", time.time() - GRACE) is False
    assert (tmp_path / "aa/x.jpg").read_bytes() == b"same"


@pytest.fixture
def no_wait(monkeypatch):
    monkeypatch.setenv("MAPAPP_PHOTO_BUSY_WAIT_SECONDS", "0")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_full_budget_answers_busy_and_frees_nothing_it_did_not_take(no_wait):
    budget = decode_budget()
    assert budget.acquire(budget.capacity, 0)
    try:
        with pytest.raises(PhotoWorkBusy) as caught:
            process_photo(make_photo())
        assert caught.value.status == 503 and caught.value.code == "busy" and caught.value.retry_after
    finally:
        budget.release(budget.capacity)
    assert budget.used == 0
    assert process_photo(make_photo()).width == 1200  # and with room again, it works
