"""The staff pages as people use them all day: in Korean with no raw codes, in several tabs of one browser,
logged out everywhere at once, times in the city's zone, the public map's colours; at desktop and phone width."""

import re
import uuid

import pytest
from sqlalchemy import text

from mapapp.accounts import service as accounts
from mapapp.core import status as report_status
from mapapp.core.db import transaction
from mapapp.web.pages import STATUS_COLORS
from tests.browser.conftest import ARTIFACTS
from tests.factories import office_id

PASSWORD = "a long enough password"
STAFF_CODES = ("active", "inactive", "archived", "admin", "manager", "staff", "district", "dong", "roads", "safety")
WORDS = {"ko": ("비밀번호", "로그인", "로그아웃"), "en": ("Password", "Log in", "Log out")}


def _staff(email: str, role: str, office: str | None = None) -> str:
    """A new account (the demo city is shared by the module's tests: each test makes its own)."""
    email = f"{uuid.uuid4().hex[:8]}-{email}"
    with transaction() as session:
        accounts.create_user(
            session, email=email, name=email, role=role, password=PASSWORD, office_id=office_id(session, office)
        )
    return email


def _report(client, description: str = "깊은 구멍") -> str:  # type: ignore[no-untyped-def]
    body = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016, "description": description}
    return str(client.post("/api/reports", json=body).json()["id"])


def _log_in(page, live_server: str, path: str, email: str, locale: str) -> None:  # type: ignore[no-untyped-def]
    password, button, _ = WORDS[locale]
    page.goto(f"{live_server}{path}?lang={locale}")
    page.locator("#l-email").fill(email)
    page.get_by_label(password).fill(PASSWORD)
    page.get_by_role("button", name=button, exact=True).click()
    page.locator("#log-out").wait_for()


def _row(page, public_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f"#queue > li[data-id='{public_id}']")


def _acknowledge(page, public_id: str) -> None:  # type: ignore[no-untyped-def]
    """Open the report on the desk and press the Acknowledge button the server offers."""
    _row(page, public_id).locator(".cat").click()
    page.locator("#detail-title", has_text=public_id).wait_for()
    page.locator("#detail").get_by_role("button", name="Acknowledge").click()
    page.locator("#detail .status[data-status='acknowledged']").wait_for()


def test_korean_office_shows_words_not_codes_and_the_public_colours(browser, watch, live_server, client):
    watch.expected_status.add(401)  # /api/auth/me before logging in
    boss = _staff("boss@mapo.example", "manager", "11440-roads")
    routed, acknowledged = _report(client), _report(client, "두 번째 구멍")
    with transaction() as session:
        session.execute(text("UPDATE reports SET status = 'acknowledged' WHERE public_id = :id"), {"id": acknowledged})
        slugs = list(session.scalars(text("SELECT slug FROM categories")))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch.attach(page)
    _log_in(page, live_server, "/office", boss, "ko")
    _row(page, acknowledged).wait_for()
    visible = page.locator("body").inner_text()
    codes = [*report_status.STATUSES, *slugs, "priority", "newest", "manager"]
    found = [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", visible)]
    assert found == [], f"raw codes on the Korean office page: {found}"
    assert page.locator("#counts").inner_text().startswith("상태별 건수: ")
    # The minimap colours reports as the public map does (routed and acknowledged are both "open"), with a legend.
    colours = page.evaluate(
        "() => { const out = []; document.querySelectorAll('#queue-map path.leaflet-interactive')"
        ".forEach((p) => out.push(p.getAttribute('fill'))); return out; }"
    )
    assert colours and set(colours) == {STATUS_COLORS["open"]}, colours
    legend = page.locator("#queue-legend").inner_text()
    assert all(word in legend for word in ("접수", "처리 중", "해결", "종결", "기한 초과"))
    assert routed in visible
    _row(page, acknowledged).locator(".cat").click()  # the moves the server allows, in words
    page.locator("#detail").get_by_role("button", name="담당자 지정").wait_for()
    detail = page.locator("#detail").inner_text()
    found = [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", detail)]
    assert found == [], f"raw codes in the Korean detail panel: {found}"
    context.close()


def test_two_tabs_of_one_session_both_act_and_log_out_ends_both(browser, watch, live_server, client):
    watch.expected_status.add(401)  # /api/auth/me before logging in, and the second tab after log-out
    boss = _staff("boss@mapo.example", "manager", "11440-roads")
    first_report, second_report, third_report = _report(client), _report(client), _report(client)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    first = context.new_page()
    watch.attach(first)
    _log_in(first, live_server, "/office", boss, "en")
    second = context.new_page()  # a second tab: the session cookie is shared, its CSRF token must be too
    watch.attach(second)
    second.goto(live_server + "/office?lang=en")
    _acknowledge(second, second_report)
    _acknowledge(first, first_report)
    _row(first, first_report).locator(".status[data-status='acknowledged']").wait_for()
    assert second.locator("#work-error").inner_text() == first.locator("#work-error").inner_text() == ""

    first.get_by_role("button", name="Log out").click()
    first.locator("#login").wait_for()
    assert first.locator("#work").is_hidden()
    # The other tab's next action meets the ended session and shows the log-in form, not a CSRF error.
    _row(second, third_report).locator(".cat").click()
    second.locator("#login").wait_for()
    assert second.evaluate("async () => (await fetch('/api/auth/me')).status") == 401
    with transaction() as session:
        status = session.scalar(text("SELECT status FROM reports WHERE public_id = :id"), {"id": third_report})
    assert status == "routed"
    context.close()


def test_times_are_in_the_city_zone_with_the_zone_shown(browser, watch, live_server, client):
    watch.expected_status.add(401)
    boss = _staff("boss@mapo.example", "manager", "11440-roads")
    public_id = _report(client)
    with transaction() as session:  # made at 20:29 in Seoul: 11:29 UTC
        session.execute(
            text("UPDATE reports SET created_at = '2026-05-01 11:29:00+00' WHERE public_id = :id"), {"id": public_id}
        )
        session.execute(
            text(
                "UPDATE report_events SET created_at = '2026-05-01 11:29:00+00' "
                "WHERE report_id = (SELECT id FROM reports WHERE public_id = :id)"
            ),
            {"id": public_id},
        )
    # The browser's own zone is UTC: the page must still show Seoul's time.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{live_server}/reports/{public_id}?lang=ko")
    assert page.locator("#timeline time").first.inner_text() == "2026-05-01 20:29 KST"
    _log_in(page, live_server, "/office", boss, "ko")
    assert _row(page, public_id).locator("time").inner_text() == "2026-05-01 20:29 KST"
    _row(page, public_id).locator(".cat").click()
    page.locator("#detail .timeline-staff time").first.wait_for()
    assert page.locator("#detail .timeline-staff time").first.inner_text() == "2026-05-01 20:29 KST"
    # An end time typed on the admin page is the city's wall clock too, whatever the browser's zone.
    assert page.evaluate("() => window.staff.fromCityTime('2026-05-01T20:29')") == "2026-05-01T11:29:00.000Z"
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_pages_in_both_languages_fit_and_are_pictured(browser, watch, live_server, client, width):
    watch.expected_status.add(401)
    boss = _staff("boss@mapo.example", "manager", "11440-roads")
    chief = _staff("chief@city.example", "admin")
    _report(client)
    client.post(
        "/api/reports", json={"layer": "facilities", "category": "illegal-dumping", "lat": 37.5641, "lon": 126.9977}
    )
    for locale in ("ko", "en"):
        for path, email in (("/office", boss), ("/admin", chief)):
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            watch.attach(page)
            _log_in(page, live_server, path, email, locale)
            page.locator("#queue > li, #offices tbody tr").first.wait_for()
            assert page.locator("#lang-switch").inner_text() == ("English" if locale == "ko" else "한국어")
            wide = page.evaluate(
                "(w) => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w"
                " && !e.closest('.table-scroll') && !e.closest('.leaflet-container')).map((e) => e.tagName + '#' + e.id"
                " + '.' + e.className)",
                width,
            )
            assert wide == [], f"wider than the screen: {wide}"  # no sideways page scroll
            if locale == "ko":  # words, not the codes of statuses, layer states, roles, levels or departments
                visible = page.locator("body").inner_text()
                codes = [*report_status.STATUSES, *STAFF_CODES]
                found = [c for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", visible)]
                assert found == [], f"raw codes on the Korean {path} page: {found}"
            ARTIFACTS.mkdir(exist_ok=True)  # the whole page, to be looked at
            page.screenshot(path=str(ARTIFACTS / f"staff{path.replace('/', '-')}-{locale}-{width}.png"), full_page=True)
            context.close()
