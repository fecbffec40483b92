"""The view's freshness: a stale view is rebuilt in the background, one rebuild at a time, and says so."""

import time

from sqlalchemy import text

from mapapp.core.db import get_engine, transaction
from mapapp.core.settings import get_settings
from mapapp.stats import service


def test_a_stale_view_is_rebuilt_in_the_background_and_new_reports_appear(client, demo_db, monkeypatch):
    with transaction() as session:
        service.refresh(session)
        session.execute(text("UPDATE stats_refreshes SET refreshed_at = now() - interval '2 hours'"))
    before = client.get("/api/stats", params={"from": "2024-11-27"}).json()
    assert before["freshness"]["stale"] is False  # MAPAPP_STATS_REFRESH_SECONDS=0: never rebuilt by requests
    monkeypatch.setenv("MAPAPP_STATS_REFRESH_SECONDS", "900")
    get_settings.cache_clear()
    try:
        answer = client.get("/api/stats", params={"from": "2024-11-27", "to": service.city_today().isoformat()})
        assert answer.json()["freshness"]["stale"] is True
        for _ in range(100):  # the rebuild runs in a thread of the app
            with get_engine().connect() as conn:
                age = conn.execute(text("SELECT now() - refreshed_at < interval '1 minute' FROM stats_refreshes"))
                if age.scalar():
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the view was not rebuilt")
        again = client.get("/api/stats", params={"from": "2024-11-27", "to": service.city_today().isoformat()})
        assert again.json()["freshness"]["stale"] is False
    finally:
        monkeypatch.undo()  # back to the suite's 0: no other test gets a rebuild behind its back
        get_settings.cache_clear()


def test_only_one_refresh_at_a_time(demo_db):
    with transaction() as first, transaction() as second:
        assert service.refresh(first) is not None
        assert service.refresh(second) is None  # the advisory lock is held by the first until it commits
