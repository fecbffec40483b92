"""The admin desk and moderation in a real browser, at desktop and phone width, with screenshots:
an administrator switches the flood layer, routes triage, creates an office and a user and sees an expired
layer as inactive; a moderator hides a photo and the public page no longer shows it; a supporter leaves an
e-mail with "me too"."""

import re
import uuid

import pytest
from sqlalchemy import text

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from tests.browser.conftest import ARTIFACTS, screenshot
from tests.factories import make_photo, office_id

PASSWORD = "a long enough password"
WIDTHS = [1280, 390]


def _staff(role: str, office: str | None = None) -> str:
    email = f"{uuid.uuid4().hex[:8]}-{role}@city.example"
    with transaction() as session:
        accounts.create_user(
            session, email=email, name=email, role=role, password=PASSWORD, office_id=office_id(session, office)
        )
    return email


def _context(browser, width: int):  # type: ignore[no-untyped-def]
    phone = width < 600
    return browser.new_context(
        viewport={"width": width, "height": 844 if phone else 1000}, is_mobile=phone, has_touch=phone
    )


def _log_in(page, live_server: str, path: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}{path}")
    page.locator("#l-email").fill(email)
    page.locator("#l-password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.locator("#log-out").wait_for()


def _fits(page, width: int) -> None:  # type: ignore[no-untyped-def]
    wide = page.evaluate(
        "(w) => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > w + 1"
        " && !e.closest('.table-scroll') && !e.closest('.leaflet-container')).map((e) => e.tagName + '#' + e.id)",
        width,
    )
    assert wide == [], f"wider than the screen: {wide}"


def _sql(query: str, **params):  # type: ignore[no-untyped-def]
    with transaction() as session:
        result = session.execute(text(query), params)
        return result.all() if result.returns_rows else []


def test_an_administrator_switches_the_flood_layer_and_routes_triage(browser, watch, live_server, client):
    watch.expected_status.add(401)  # /api/auth/me before logging in
    chief = _staff("admin")
    stuck = client.post(
        "/api/reports", json={"layer": "facilities", "category": "illegal-dumping", "lat": 37.5641, "lon": 126.9977}
    ).json()["id"]  # 중구 has no sanitation office
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    watch.attach(page)
    _log_in(page, live_server, "/admin?lang=en", chief)
    flood = page.locator("section[data-layer='flood']")
    flood.wait_for()
    page.fill("#bko-flood", "저지대 주민은 대피하세요")
    page.fill("#ben-flood", "Leave low ground now")
    flood.get_by_role("button", name="Activate").click()
    flood.locator(".state[data-state='active']", has_text=re.compile(r"^Active$")).wait_for()
    screenshot(page, "admin-flood-active")

    public = context.new_page()
    watch.attach(public)
    public.goto(live_server + "/?lang=en")
    public.locator(".banner.flood", has_text="Leave low ground now").wait_for(timeout=10000)
    flood.get_by_role("button", name="Deactivate").click()
    flood.locator(".state[data-state='inactive']", has_text="Inactive").wait_for()
    public.locator(".banner.flood").wait_for(state="detached", timeout=10000)

    # Triage is its own desk now: the admin page links to it, and the report is routed there.
    assert page.locator("#triage").count() == 0
    page.locator("#triage-desk-link").click()
    page.wait_for_url(re.compile(r"/triage"))
    page.locator(f"#triage-list li[data-id='{stuck}']").click()
    page.locator("#item h2", has_text=stuck).wait_for()
    page.select_option("#other-office", "11140-roads")
    page.locator("#route-go").click()
    page.locator(f"#triage-list li[data-id='{stuck}']").wait_for(state="detached")
    assert client.get(f"/api/reports/{stuck}").json()["properties"]["office"] == "11140-roads"
    page.goto(live_server + "/admin?lang=en")
    page.locator("#users tbody tr", has_text=chief).first.wait_for()
    assert page.locator("#users tbody tr", has_text=chief).count() == 1
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_administrator_creates_an_office_and_a_user_and_sees_an_expired_layer_inactive(
    browser, watch, live_server, client, width
):
    watch.expected_status.add(401)
    chief = _staff("admin")
    area = "11110" if width > 600 else "11140"  # 종로구, 중구: each width makes its own transit office
    _sql("UPDATE layers SET state = 'active', active_until = now() - interval '5 minutes' WHERE slug = 'flood'")
    context = _context(browser, width)
    page = context.new_page()
    watch.attach(page)
    _log_in(page, live_server, "/admin?lang=en", chief)

    # The flood layer was switched on with an end time that has passed: it reads inactive and offers Activate.
    flood = page.locator("section[data-layer='flood']")
    flood.locator(".state[data-state='inactive']", has_text="Inactive").wait_for()
    assert flood.get_by_role("button", name="Deactivate").count() == 0
    assert flood.get_by_role("button", name="Activate").count() == 1

    form = page.locator("#new-office")
    form.get_by_label("Area").select_option(area)
    form.get_by_label("Department").select_option(label="Public transport")
    form.get_by_label("Name (Korean)").fill("버스정책팀")
    form.get_by_label("Name (English)").fill(f"Bus Policy {area}")
    form.get_by_role("button", name="Create").click()
    slug = f"{area}-transit"
    page.locator(f"#offices tr[data-key='{slug}']").wait_for()
    assert page.locator(f"#offices tr[data-key='{slug}']").get_by_text("Public transport").count() == 1
    screenshot(page, f"admin-office-created-{width}")
    # The search box narrows the long list of offices to the new one.
    page.get_by_label("Find").first.fill(f"Bus Policy {area}")
    assert page.locator("#offices tbody tr:visible").count() == 1
    office_row = page.locator(f"#offices tr[data-key='{slug}']")
    office_row.get_by_role("button", name="Edit").click()
    edit = page.locator("#edit-office")
    edit.get_by_label("Name (English)").fill(f"Bus Policy Team {area}")
    edit.get_by_role("button", name="Save").click()
    office_row.get_by_text(f"Bus Policy Team {area}").wait_for()
    assert edit.is_hidden()

    email = f"{uuid.uuid4().hex[:6]}.driver@city.example"
    users = page.locator("#new-user")
    users.get_by_label("E-mail").fill(email)
    users.get_by_label("Name").fill("Bus Manager")
    users.get_by_label("Role").select_option(label="Office manager")
    users.get_by_label("Office").select_option(slug)
    users.get_by_role("button", name="Create").click()
    row = page.locator("#users tr", has=page.get_by_text(email, exact=True))
    row.wait_for()
    assert row.locator("select[id^='uo-']").input_value() == slug
    page.locator("#admin-status", has_text="Saved").wait_for()
    # Created without a password: the invitation, a password-reset link, is waiting in the outbox.
    assert (
        _sql("SELECT count(*) FROM outbox WHERE recipient = :e AND body LIKE '%/reset-password#token=%'", e=email)[0][0]
        == 1
    )
    _fits(page, width)
    # Deactivated, the office takes no new reports; it is still listed, marked inactive.
    office_row.get_by_role("button", name="Disable").click()
    office_row.get_by_role("button", name="Enable").wait_for()
    assert _sql("SELECT active FROM offices WHERE slug = :s", s=slug)[0][0] is False
    row.scroll_into_view_if_needed()
    screenshot(page, f"admin-user-created-{width}")
    # An API key is shown once, then revoked.
    keys = page.locator("#new-key")
    keys.get_by_label("Who it is for").fill(f"district portal {width}")
    keys.get_by_role("button", name="Create").click()
    page.locator("#new-key-shown:not([hidden])").wait_for()
    key = page.locator("#new-key-value").inner_text()
    assert len(key) > 30
    key_row = page.locator("#keys tbody tr", has_text=f"district portal {width}")
    key_row.get_by_role("button", name="Revoke").click()
    key_row.get_by_text("Revoked").wait_for()
    assert key not in page.locator("#keys").inner_text()
    screenshot(page, f"admin-api-key-{width}")
    page.locator("#layers-h").scroll_into_view_if_needed()
    screenshot(page, f"admin-expired-layer-{width}")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"admin-desk-full-{width}.png"), full_page=True)
    _sql("UPDATE layers SET state = 'inactive', active_until = NULL WHERE slug = 'flood'")
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_moderator_hides_a_photo_and_the_public_page_no_longer_shows_it(browser, watch, live_server, client, width):
    watch.expected_status.add(401)
    manager = _staff("manager", "11440-roads")
    public_id = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": "pothole", "lat": "37.5663", "lon": "126.9016", "description": "구멍"},
        files=[
            ("photos", ("face.jpg", make_photo(size=(480, 360), color=(220, 40, 40)), "image/jpeg")),
            ("photos", ("road.jpg", make_photo(size=(480, 360), color=(40, 40, 220)), "image/jpeg")),
        ],
    ).json()["id"]
    thumbs = [p["thumbnail"] for p in client.get(f"/api/reports/{public_id}").json()["properties"]["photos"]]
    context = _context(browser, width)
    page = context.new_page()
    watch.attach(page)
    _log_in(page, live_server, f"/moderate?lang=en&report={public_id}", manager)
    first = page.locator("#photos figure").first
    first.wait_for()
    first.get_by_label("Reason (staff only)").fill("a face can be recognised")
    first.get_by_role("button", name="Hide").click()
    page.locator("#photos figure.hidden").wait_for()
    assert page.locator("#photos figure.hidden").get_by_text("a face can be recognised").count() == 1
    page.locator("#log li", has_text="Photo hidden").wait_for()
    _fits(page, width)
    screenshot(page, f"moderate-photo-hidden-{width}")

    public = context.new_page()
    watch.attach(public)
    public.goto(f"{live_server}/reports/{public_id}?lang=en")
    shown = public.locator(".photos img").evaluate_all("(imgs) => imgs.map((i) => i.getAttribute('src'))")
    assert shown == [thumbs[1]], shown  # the hidden photo is gone, the other stays
    assert "a face can be recognised" not in public.content()
    screenshot(public, f"moderate-public-page-{width}")

    # In Korean: words, never the codes of states or moderation events.
    page.goto(f"{live_server}/moderate?lang=ko&report={public_id}")
    page.locator("#log li", has_text="사진 숨김").wait_for()
    page.locator("#worklist li", has_text="숨긴 사진").first.wait_for()
    visible = page.locator("body").inner_text()
    for code in ("photo_hidden", "report_hidden", "photo_held", "hidden", "held", "public", "manager"):
        assert not re.search(rf"(?<![\w.@-]){code}(?![\w-])", visible), code
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"moderate-ko-{width}.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_supporter_leaves_an_email_with_me_too(browser, watch, live_server, client, width):
    public_id = client.post(
        "/api/reports", json={"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016}
    ).json()["id"]
    email = f"neighbour-{width}@example.com"
    context = _context(browser, width)
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{live_server}/reports/{public_id}?lang=en")
    page.get_by_label("E-mail for updates (optional, never shown)").fill(email)
    page.get_by_role("button", name="Me too", exact=True).click()  # not the follow form's "Me too · follow"
    page.locator("#me-too-result", has_text="one-click unsubscribe").wait_for()
    assert page.locator("#supporters").inner_text().startswith("1 ")
    _fits(page, width)
    page.locator("#me-too").scroll_into_view_if_needed()
    screenshot(page, f"me-too-email-{width}")
    follower = _sql(
        "SELECT f.email, f.locale, f.role FROM report_followers f JOIN reports r ON r.id = f.report_id "
        "WHERE r.public_id = :p",
        p=public_id,
    )
    assert [tuple(r) for r in follower] == [(email, "en", "supporter")]
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reset_link_opens_a_page_to_choose_a_new_password(browser, watch, live_server, width):
    email = _staff("triage")
    with transaction() as session:
        uid = session.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar_one()
        accounts.send_password_reset(session, user_id=uid)
    body = _sql("SELECT body FROM outbox WHERE recipient = :e ORDER BY id DESC LIMIT 1", e=email)[0][0]
    path = re.search(r"/reset-password#token=[\w-]+", body).group(0)  # type: ignore[union-attr]
    context = _context(browser, width)
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{live_server}{path.replace('#', '?lang=en#')}")
    assert "#token" not in page.url  # the secret leaves the address bar at once
    page.get_by_label("New password (12 characters or more)").fill("my own new password")
    page.get_by_label("New password again").fill("my own new password")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Your password is changed").wait_for()
    _fits(page, width)
    screenshot(page, f"reset-password-{width}")
    context.close()
    with transaction() as session:
        assert accounts.log_in(session, email=email, password="my own new password", client="127.0.0.1") is not None
