"""The dashboard's API and pages over HTTP on the demo city: the schema, refusals, the report page's target
agreeing with Open311, and the public list (filters, search, paging, both languages)."""

import re
from datetime import date, timedelta

from mapapp.stats import service
from tests.conftest import sql


def refreshed():
    from mapapp.core.db import transaction

    with transaction() as session:
        assert service.refresh(session) is not None


def test_the_api_counts_every_demo_report_and_says_how_fresh(client, demo_db):
    refreshed()
    today = service.city_today()
    span = {"from": (today - timedelta(days=730)).isoformat(), "to": today.isoformat()}
    body = client.get("/api/stats", params=span).json()
    in_city = sql(demo_db, "SELECT count(*) FROM reports WHERE city_id IS NOT NULL")[0][0]
    assert body["received"] == in_city > 0
    assert body["scope"]["kind"] == "city" and body["period"]["to"] == today.isoformat()
    assert body["freshness"]["refreshed_every_seconds"] == 0 and body["freshness"]["stale"] is False
    # The backlog at the end is what is open now (nothing was filed before the period).
    open_now = sql(demo_db, "SELECT count(*) FROM reports WHERE city_id IS NOT NULL AND status NOT IN "
                            "('resolved', 'closed')")[0][0]  # fmt: skip
    assert body["open_at_end"] == body["backlog"][-1]["open"] == open_now
    assert sum(c["received"] for c in body["by_category"]) == in_city
    assert len(body["districts"]) == 25
    mapo = client.get("/api/stats", params={"scope": "district", "code": "11440"}).json()
    assert mapo["scope"]["name"]["en"] == "Mapo-gu"
    schema = client.get("/openapi.json").json()
    answer = schema["paths"]["/api/stats"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["$ref"].endswith("/StatsPublic")
    assert {"time_to_resolve", "within_target", "backlog", "by_channel"} <= set(
        schema["components"]["schemas"]["StatsPublic"]["properties"]
    )


def test_bad_scopes_and_periods_are_refused_with_their_codes(client):
    cases = [
        ({"scope": "office", "code": "no-such-office"}, 404, "stats_scope_not_found"),
        ({"scope": "district"}, 422, "invalid_input"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, 422, "invalid_stats_period"),
        ({"from": "2020-01-01", "to": "2026-03-01"}, 422, "invalid_stats_period"),
        ({"scope": "planet"}, 422, "invalid_request"),
        ({"from": "yesterday"}, 422, "invalid_request"),
    ]
    for params, status, code in cases:
        response = client.get("/api/stats", params=params)
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), params


def test_the_report_page_shows_the_target_that_open311_expects(client, demo_db):
    for status in ("resolved", "routed"):
        public_id, hours = sql(
            demo_db,
            "SELECT r.public_id, c.response_hours FROM reports r JOIN categories c ON c.id = r.category_id "
            "WHERE r.status = :s AND c.response_hours % 24 = 0 ORDER BY r.id LIMIT 1",
            s=status,
        )[0]
        page = client.get(f"/reports/{public_id}", params={"lang": "en"}).text
        days = hours // 24
        assert f"usually within {days} day" in page
        due = re.search(r'id="target-due" datetime="([^"]+)"', page).group(1)
        expected = client.get(f"/open311/v2/requests/{public_id}.json").json()[0]["expected_datetime"]
        assert date.fromisoformat(due[:10]) and due.replace("+00:00", "Z")[:19] == expected[:19]
        ko = client.get(f"/reports/{public_id}", params={"lang": "ko"}).text
        assert f"보통 {days}일 이내" in ko


def test_the_public_list_filters_searches_pages_and_links(client, demo_db):
    first = client.get("/reports", params={"lang": "en"})
    assert first.status_code == 200 and "All reports" in first.text
    links = re.findall(r'href="/reports/([0-9A-Z]+)\?lang=en"', first.text)
    assert len(links) == 20
    following = re.search(r'href="(/reports\?[^"]*cursor=[^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = client.get(following).text
    more = re.findall(r'href="/reports/([0-9A-Z]+)\?lang=en"', second)
    assert more and not set(more) & set(links)
    resolved = client.get("/reports", params={"status": "resolved"}).text
    ids = re.findall(r'href="/reports/([0-9A-Z]+)\?lang=\w+"', resolved)
    statuses = {row[0] for row in sql(demo_db, "SELECT status FROM reports WHERE public_id = ANY(:i)", i=ids)}
    assert ids and statuses == {"resolved"}
    mapo = client.get("/reports", params={"q": "마포구"}).text
    ids = re.findall(r'href="/reports/([0-9A-Z]+)\?lang=\w+"', mapo)
    in_district = (
        "SELECT d.code FROM reports r JOIN jurisdictions d ON d.id = r.district_id WHERE r.public_id = ANY(:i)"
    )
    districts = {row[0] for row in sql(demo_db, in_district, i=ids)}
    assert ids and districts == {"11440"}
    nothing = client.get("/reports", params={"q": "100%_nothing", "lang": "en"}).text
    assert "No report matches." in nothing
    assert client.get("/reports", params={"cursor": "not-a-cursor"}).status_code == 422
    assert client.get("/reports", params={"status": "bogus"}).status_code == 422


def test_the_dashboard_advertises_its_feeds(client):
    """Feed autodiscovery: the city's feed on every dashboard, and the district's or office's own beside it."""
    import re

    def alternates(html: str) -> list[str]:
        return re.findall(r'<link rel="alternate" type="application/atom\+xml" title="[^"]*" href="([^"]+)"', html)

    city = alternates(client.get("/stats", params={"lang": "en"}).text)
    assert city == ["/feeds/reports.atom?lang=en"]
    district = alternates(client.get("/stats", params={"scope": "district", "code": "11440", "lang": "ko"}).text)
    assert "/feeds/reports.atom?district=11440&amp;lang=ko" in district
    office = alternates(client.get("/stats", params={"scope": "office", "code": "11440-roads", "lang": "en"}).text)
    assert "/feeds/reports.atom?office=11440-roads&amp;lang=en" in office
    for href in city + district + office:
        answer = client.get(href.replace("&amp;", "&"))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/atom+xml")
