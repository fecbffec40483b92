"""The office and triage desks in a real browser, at desktop and phone width: a manager assigns, transfers and
bulk-acknowledges; a staff member resolves with an after photo and the citizen sees it; the triage team routes
three reports by keyboard. Screenshots go to test-artifacts/ to be looked at."""

import uuid

import pytest
from sqlalchemy import text

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from tests.browser.conftest import screenshot
from tests.factories import make_photo, office_id

PASSWORD = "a long enough password"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
MAPO, GANGNAM = "11440-roads", "11680-roads"


def person(email: str, role: str, office: str | None = None) -> str:
    """A new account (the module's tests share the demo city: each makes its own people)."""
    email = f"{uuid.uuid4().hex[:6]}-{email}"
    with transaction() as session:
        accounts.create_user(
            session,
            email=email,
            name=email.split("@")[0],
            role=role,
            password=PASSWORD,
            office_id=office_id(session, office),
        )
    return email


def report(client, description: str, **where) -> str:  # type: ignore[no-untyped-def]
    body = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016, "description": description}
    response = client.post("/api/reports", json=body | where)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def status_of(public_id: str) -> str:
    with transaction() as session:
        return str(session.scalar(text("SELECT status FROM reports WHERE public_id = :p"), {"p": public_id}))


def log_in(browser, watch, live_server, path, email, size):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{live_server}{path}?lang=en")
    page.locator("#l-email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.locator("#work").wait_for()
    return context, page


def row(page, public_id):  # type: ignore[no-untyped-def]
    return page.locator(f"#queue > li[data-id='{public_id}']")


def open_report(page, public_id):  # type: ignore[no-untyped-def]
    row(page, public_id).locator(".cat").click()
    page.locator("#detail-title", has_text=public_id).wait_for()


def detail_status(page, status):  # type: ignore[no-untyped-def]
    page.locator(f"#detail .status[data-status='{status}']").wait_for()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_manager_assigns_transfers_and_bulk_acknowledges(browser, watch, live_server, client, width):
    watch.expected_status.add(401)  # /api/auth/me before logging in
    boss = person("boss@mapo.example", "manager", MAPO)
    crew = person("crew@mapo.example", "staff", MAPO)
    tag = uuid.uuid4().hex[:6]
    first, second, third, fourth = (report(client, f"깊은 구멍 {tag} {n}") for n in range(4))
    context, page = log_in(browser, watch, live_server, "/office", boss, WIDTHS[width])
    page.fill("#q-search", tag)  # the search narrows the list, the map and the CSV alike
    page.get_by_role("button", name="Show").click()
    page.wait_for_function("(tag) => document.getElementById('csv').href.includes('q=' + tag)", arg=tag)
    row(page, fourth).wait_for()
    assert page.locator("#queue > li").count() == 4
    assert page.locator("#queue-map path.leaflet-interactive").count() >= 4
    listed = row(page, first).inner_text()
    assert "Road damage or pothole" in listed and "Mapo-gu" in listed and "target" in listed and "Routed" in listed
    screenshot(page, f"office-{width}-list")

    # Assign: acknowledge, then pick the crew member from the office's staff.
    open_report(page, first)
    assert page.locator("#detail .actions button").all_inner_texts() == [
        "Acknowledge",
        "Close",
        "Close as duplicate",
        "Transfer",
        "Add internal note",
    ]  # exactly what the server allows a manager on a routed report
    page.locator("#detail").get_by_role("button", name="Acknowledge").click()
    detail_status(page, "acknowledged")
    page.locator("#detail").get_by_role("button", name="Assign").click()
    page.select_option("#f-assignee", crew)
    page.get_by_role("button", name="Confirm").click()
    detail_status(page, "assigned")
    assert crew in page.locator("#detail").inner_text()
    screenshot(page, f"office-{width}-assigned")

    # Transfer: to Gangnam's roads office with a reason; it leaves this desk.
    open_report(page, second)
    page.locator("#detail").get_by_role("button", name="Transfer").click()
    page.select_option("#f-office", GANGNAM)
    page.fill("#f-reason", "The hole is across the border, in Gangnam.")
    screenshot(page, f"office-{width}-transfer-form")
    page.get_by_role("button", name="Confirm").click()
    row(page, second).wait_for(state="detached")
    assert status_of(second) == "routed"

    # Bulk: select two by keyboard (j/k and x) and one by click, acknowledge them together.
    row(page, third).locator(".pick").check()
    row(page, fourth).locator(".pick").check()
    assert page.locator("#bulk-count").inner_text().endswith("2")
    page.locator("#bulk").get_by_role("button", name="Acknowledge").click()
    page.get_by_text("2 done, 0 refused").wait_for()
    row(page, third).locator(".status[data-status='acknowledged']").wait_for()
    row(page, fourth).locator(".status[data-status='acknowledged']").wait_for()
    screenshot(page, f"office-{width}-bulk")
    context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_staff_resolves_with_an_after_photo_and_the_citizen_sees_it(
    browser, watch, live_server, client, tmp_path, width
):
    watch.expected_status.add(401)
    crew = person("crew@mapo.example", "staff", MAPO)
    public_id = report(client, f"깊은 구멍 {uuid.uuid4().hex[:6]}")
    with transaction() as session:  # the manager assigned it
        session.execute(
            text(
                "UPDATE reports SET status = 'assigned', assigned_to = (SELECT id FROM users WHERE email = :e) "
                "WHERE public_id = :p"
            ),
            {"e": crew, "p": public_id},
        )
    context, page = log_in(browser, watch, live_server, "/office", crew, WIDTHS[width])
    page.check("#q-mine")
    page.get_by_role("button", name="Show").click()
    row(page, public_id).wait_for()
    open_report(page, public_id)
    assert "Assign" not in page.locator("#detail .actions").inner_text()  # staff do not assign
    page.keyboard.press("w")  # the shortcut for "Start work"
    detail_status(page, "in_progress")
    page.locator("#detail").get_by_role("button", name="Resolve").click()
    page.fill("#f-answer", "Filled and rolled.")
    after = tmp_path / "after.jpg"
    after.write_bytes(make_photo(color=(30, 160, 60)))
    page.set_input_files("#f-after", str(after))
    screenshot(page, f"office-{width}-resolve-form")
    page.get_by_role("button", name="Confirm").click()
    detail_status(page, "resolved")
    page.locator("#detail img[alt='After photo 1']").wait_for()
    assert "Filled and rolled." in page.locator("#detail .timeline-staff").inner_text()
    screenshot(page, f"office-{width}-resolved")
    context.close()

    citizen = browser.new_context(viewport={"width": WIDTHS[width][0], "height": 900}, locale="ko-KR")
    page = citizen.new_page()
    watch.attach(page)
    page.goto(f"{live_server}/reports/{public_id}")
    assert page.locator("#answer").inner_text() == "Filled and rolled."
    assert page.get_by_role("img", name="처리 후 사진 1").count() == 1
    screenshot(page, f"report-page-resolved-{width}")
    if width == "phone":  # the public map at 390 px is tested in test_layout/test_map; here at desktop only
        citizen.close()
        return
    page.goto(live_server + "/")
    # The city view shows clusters; each report is a point of its own from the street zooms.
    page.wait_for_function("() => window.mapapp && window.mapapp.state.layers.length > 0")
    page.evaluate("() => { window.mapappMap.setView([37.5663, 126.9016], 16, { animate: false }); }")
    page.wait_for_function(
        "(id) => window.mapapp && Object.values(window.mapapp.state.groups).some(g => "
        "g.getLayers().some(m => m.feature.id === id))",
        arg=public_id,
        timeout=30000,
    )
    colour = page.evaluate(
        "(id) => { for (const g of Object.values(window.mapapp.state.groups)) for (const m of "
        "g.getLayers()) if (m.feature.id === id) return m.options.fillColor; }",
        public_id,
    )
    assert colour == "#16a34a"  # resolved: green
    citizen.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_triage_team_routes_three_reports_by_keyboard(browser, watch, live_server, client, width):
    watch.expected_status.add(401)
    team = person("triage@city.example", "triage")
    tag = uuid.uuid4().hex[:6]
    jung = {"category": "illegal-dumping", "lat": 37.5641, "lon": 126.9977}  # 중구 has no sanitation office
    waiting = [report(client, f"쓰레기 무단 투기 {tag} {n}", **jung) for n in range(3)]
    assert {status_of(p) for p in waiting} == {"triage"}
    with transaction() as session:  # the oldest waiting: first on the desk, in this order
        for n, public_id in enumerate(waiting):
            session.execute(
                text(
                    "UPDATE reports SET created_at = timestamp '2020-01-01' + make_interval(mins => :n) "
                    "WHERE public_id = :p"
                ),
                {"n": n, "p": public_id},
            )
    context, page = log_in(browser, watch, live_server, "/triage", team, WIDTHS[width])
    routed = []
    for _ in waiting:
        page.locator("#candidates button").first.wait_for()
        current = page.locator("#item h2").inner_text().split(" · ")[-1]
        why = page.locator("#item dl").inner_text()
        assert "Jung-gu" in why  # the reason it is here names the district
        candidates = page.locator("#candidates").inner_text()
        assert "holds the point" in candidates and "neighbour" in candidates
        if not routed:
            screenshot(page, f"triage-{width}-item")
        digit = page.locator("#candidates button:not([disabled])").first.get_attribute("data-n")
        page.locator("#item").focus()
        page.keyboard.press(str(digit))
        page.keyboard.press("Enter")
        page.locator("#done", has_text=current).wait_for()
        routed.append(current)
    assert routed == waiting
    for public_id in routed:
        assert status_of(public_id) == "routed"
        reason = client.get(f"/api/reports/{public_id}").json()["properties"]["routing"]["reason"]["en"]
        assert reason.startswith("Routed by hand by the city's triage team to ") and team not in reason
    screenshot(page, f"triage-{width}-done")
    context.close()


def test_a_duplicate_is_picked_on_the_map_and_closed(browser, watch, live_server, client):
    watch.expected_status.add(401)
    boss = person("boss@mapo.example", "manager", MAPO)
    tag = uuid.uuid4().hex[:6]
    # Away from where the other tests put their reports (the map would stack them on these).
    original = report(client, f"원래 신고 {tag}", lat=37.5565, lon=126.9236)  # about 55 m north
    duplicate = report(client, f"같은 구멍 {tag}", lat=37.5560, lon=126.9236)
    context, page = log_in(browser, watch, live_server, "/office", boss, WIDTHS["desktop"])
    page.fill("#q-search", tag)
    page.get_by_role("button", name="Show").click()
    row(page, duplicate).wait_for()
    open_report(page, duplicate)
    page.keyboard.press("d")  # the shortcut for "Close as duplicate": the nearby open reports to pick from
    page.locator("#dup-list").wait_for()
    # Pick the original on the detail map: its marker is the one whose tooltip names it.
    markers = page.locator("#detail-map path.leaflet-interactive")
    for i in range(markers.count()):
        markers.nth(i).hover(force=True)
        if page.locator(".leaflet-tooltip", has_text=original).count():
            markers.nth(i).click()
            break
    assert page.locator(f"#dup-list input[value='{original}']").is_checked()
    screenshot(page, "office-desktop-duplicate")
    page.get_by_role("button", name="Confirm").click()
    page.locator("#detail .status[data-status='closed']").wait_for()
    assert status_of(duplicate) == "closed"
    context.close()
