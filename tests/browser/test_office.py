"""The city side in a real browser: a manager assigns, staff resolves with an after photo, and the
citizen sees the answer and a resolved marker."""

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from tests.browser.conftest import screenshot
from tests.factories import make_photo, office_id

PASSWORD = "a long enough password"


def log_in(page, live_server, email):  # type: ignore[no-untyped-def]
    page.goto(live_server + "/office?lang=en")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("#work").wait_for()


def test_manager_assigns_staff_resolves_citizen_sees_it(browser, watch, live_server, client, tmp_path):
    watch.expected_status.add(401)  # /api/auth/me before logging in
    with transaction() as session:
        accounts.create_user(
            session,
            email="boss@mapo.example",
            name="Boss",
            role="manager",
            password=PASSWORD,
            office_id=office_id(session, "11440-roads"),
        )
        accounts.create_user(
            session,
            email="crew@mapo.example",
            name="Crew",
            role="staff",
            password=PASSWORD,
            office_id=office_id(session, "11440-roads"),
        )
    public_id = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "description": "깊은 구멍",
        },
    ).json()["id"]

    manager = browser.new_context(viewport={"width": 1280, "height": 900})
    page = manager.new_page()
    watch.attach(page)
    log_in(page, live_server, "boss@mapo.example")
    row = page.locator(f"tr[data-id='{public_id}']")
    row.wait_for()
    assert page.locator("#queue-map path.leaflet-interactive").count() >= 1  # on the map too
    screenshot(page, "office-queue")
    page.select_option("#q-sort", "priority")
    page.fill("#q-category", "pothole")
    page.get_by_role("button", name="Show").click()
    page.wait_for_function("() => document.getElementById('csv').href.includes('category=pothole')")
    assert page.locator(f"tr[data-id='{public_id}']").count() == 1
    row.get_by_role("button", name="Acknowledge").click()
    page.locator(f"tr[data-id='{public_id}'] .status", has_text="Acknowledged").wait_for()
    page.once("dialog", lambda dialog: dialog.accept("crew@mapo.example"))
    page.locator(f"tr[data-id='{public_id}']").get_by_role("button", name="Assign").click()
    page.locator(f"tr[data-id='{public_id}'] .status", has_text="Assigned").wait_for()
    manager.close()

    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    watch.attach(page)
    log_in(page, live_server, "crew@mapo.example")
    page.locator(f"tr[data-id='{public_id}']").get_by_role("button", name="Start work").click()
    page.locator(f"tr[data-id='{public_id}'] .status", has_text="In progress").wait_for()
    after = tmp_path / "after.jpg"
    after.write_bytes(make_photo(color=(30, 160, 60)))
    page.set_input_files(f"#after-{public_id}", str(after))
    page.once("dialog", lambda dialog: dialog.accept("Filled and rolled."))
    page.locator(f"tr[data-id='{public_id}']").get_by_role("button", name="Resolve").click()
    page.locator(f"tr[data-id='{public_id}'] .status", has_text="Resolved").wait_for()
    staff.close()

    citizen = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = citizen.new_page()
    watch.attach(page)
    page.goto(f"{live_server}/reports/{public_id}")
    assert page.locator("#answer").inner_text() == "Filled and rolled."
    assert page.locator("#status").inner_text() == "해결"
    assert page.get_by_role("img", name="처리 후 사진 1").count() == 1
    screenshot(page, "report-page-resolved")
    page.goto(live_server + "/")
    # The city view shows clusters; each report is a point of its own from the street zooms.
    page.wait_for_function("() => window.mapapp && window.mapapp.state.layers.length > 0")
    page.evaluate("() => { window.mapappMap.setView([37.5663, 126.9016], 16, { animate: false }); }")
    page.wait_for_function(
        "(id) => window.mapapp && Object.values(window.mapapp.state.groups).some(g => "
        "g.getLayers().some(m => m.feature.id === id))",
        arg=public_id,
        timeout=15000,
    )
    colour = page.evaluate(
        "(id) => { for (const g of Object.values(window.mapapp.state.groups)) for (const m of "
        "g.getLayers()) if (m.feature.id === id) return m.options.fillColor; }",
        public_id,
    )
    assert colour == "#16a34a"  # resolved: green
    citizen.close()
