"""Subscribing: bad input refused with a specific code and nothing stored, links that name nothing, the
preview, the page in both languages, and the same rate limit as submitting a report."""

import pytest
from sqlalchemy import create_engine, text

from mapapp.core.settings import get_settings


def count(url) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM alert_subscriptions")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"district": "11440"}, 422, "invalid_contact"),
        ({"email": "not an address", "district": "11440"}, 422, "invalid_contact"),
        ({"email": "a@example.org"}, 422, "alert_area_required"),
        (
            {"email": "a@example.org", "district": "11440", "lat": 37.5, "lon": 127.0, "radius": 100},
            422,
            "alert_area_required",
        ),
        ({"email": "a@example.org", "lat": 37.5, "lon": 127.0}, 422, "invalid_input"),
        ({"email": "a@example.org", "lat": 37.5, "lon": 127.0, "radius": 50000}, 422, "invalid_input"),
        ({"email": "a@example.org", "lat": "north", "lon": 127.0, "radius": 100}, 422, "invalid_input"),
        ({"email": "a@example.org", "district": "00000"}, 404, "unknown_jurisdiction"),
        ({"email": "a@example.org", "district": "11440", "layer": "nope"}, 422, "unknown_layer"),
        ({"email": "a@example.org", "district": "11440", "category": "nope"}, 422, "unknown_category"),
        ({"email": ["a@example.org"], "district": "11440"}, 422, "invalid_input"),
    ],
)
def test_bad_subscriptions_are_refused_and_store_nothing(client, demo_db, body, status, code):
    before = count(demo_db)
    response = client.post("/api/alerts", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert count(demo_db) == before


def test_unknown_links_are_404_with_their_code(client):
    for path in ("/alerts/confirm/nope", "/alerts/unsubscribe/1-deadbeef", "/alerts/unsubscribe/x"):
        for method in ("GET", "POST"):
            response = client.request(method, path, headers={"Accept": "application/json"})
            assert response.status_code == 404, (method, path)
            assert response.json()["error"]["code"] == "alert_link_unknown"


def test_the_page_in_both_languages_and_a_form_error(client):
    ko = client.get("/alerts", params={"lang": "ko", "district": "11440"})
    assert ko.status_code == 200 and "지역 알림과 피드" in ko.text and "마포구" in ko.text
    assert 'href="/feeds/reports.atom?district=11440&amp;lang=ko"' in ko.text
    en = client.get("/alerts", params={"lang": "en"})
    assert "Alerts and feeds for an area" in en.text and "Mapo-gu" in en.text
    bad = client.post("/alerts", data={"email": "nobody", "area": "district", "district": "11440", "locale": "en"})
    assert bad.status_code == 422 and 'id="alert-error"' in bad.text
    assert 'value="nobody"' in bad.text  # the form comes back as it was typed
    map_page = client.get("/", params={"lang": "en"}).text
    assert 'id="alerts-link" href="/alerts?lang=en"' in map_page


def test_preview_shows_the_newest_reports_of_the_area(client):
    response = client.get("/api/alerts/preview", params={"district": "11440", "lang": "en"})
    assert response.status_code == 200
    preview = response.json()
    assert "Mapo-gu" in preview["body"] and "/reports/" in preview["body"]
    assert client.get("/api/alerts/preview", params={"district": "11440", "layer": "x"}).status_code == 422


def test_subscribing_is_rate_limited_like_submitting(client, demo_db, monkeypatch):
    monkeypatch.setenv("MAPAPP_RATELIMIT_SUBMIT_PER_HOUR", "2")
    monkeypatch.setenv("MAPAPP_RATELIMIT_SUBMIT_BURST", "2")
    get_settings.cache_clear()
    try:
        statuses = [
            client.post("/api/alerts", json={"email": f"limit{n}@example.org", "district": "11440"}).status_code
            for n in range(4)
        ]
        assert 429 in statuses
        refused = client.post("/api/alerts", json={"email": "x@example.org", "district": "11440"})
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) > 0
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        # The bucket was pushed hours ahead by the low limit: empty it for the other tests of this module.
        engine = create_engine(demo_db)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rate_limits WHERE key LIKE 'submit:%'"))
        engine.dispose()


def test_an_address_that_never_confirms_is_forgotten(client, demo_db):
    from mapapp.alerts import service
    from mapapp.core.db import transaction

    assert (
        client.post("/api/alerts", json={"email": "never.confirms@example.org", "district": "11440"}).status_code == 202
    )
    engine = create_engine(demo_db)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE alert_subscriptions SET created_at = now() - interval '8 days' "
                    "WHERE email = 'never.confirms@example.org'"
                )
            )
    finally:
        engine.dispose()
    with transaction() as session:
        assert service.forget_unconfirmed(session) >= 1
    engine = create_engine(demo_db)
    try:
        with engine.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM alert_subscriptions WHERE email = 'never.confirms@example.org'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert left == 0


def test_the_alert_pass_leaves_out_a_report_hidden_by_moderation(client, demo_db):
    """The worker's pass reads what the preview reads (core.visibility): a hidden report is in no alert."""
    from mapapp.alerts import service
    from mapapp.core.db import transaction

    lat, lon, email = 37.5551, 126.9105, "hidden.alerts@example.org"  # a quiet corner of Mapo-gu
    engine = create_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO alert_subscriptions (email, locale, center, radius_m, confirm_token_hash, confirmed_at,"
                " last_report_id) SELECT :e, 'en', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 50, md5(:e) || md5(:e),"
                " now(), coalesce(max(id), 0) FROM reports"
            ),
            {"e": email, "lat": lat, "lon": lon},
        )
    body = {"layer": "facilities", "category": "pothole", "lat": lat, "lon": lon}
    shown, hidden = (client.post("/api/reports", json=body).json()["id"] for _ in range(2))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE reports SET hidden_at = now(), hidden_reason = 'spam' WHERE public_id = :p"), {"p": hidden}
        )
    with transaction() as session:
        assert service.queue_alerts(session) >= 1
    with engine.connect() as conn:
        [(subject, mail)] = conn.execute(
            text("SELECT subject, body FROM outbox WHERE channel = 'email' AND recipient = :e"), {"e": email}
        ).all()
    engine.dispose()
    assert subject.startswith("[New report]") and f"/reports/{shown}" in mail and hidden not in mail
