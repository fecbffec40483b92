"""A city administrator in a real browser: switches the flood layer on and off, routes a triage report."""

import re

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from tests.browser.conftest import screenshot

PASSWORD = "a long enough password"


def test_an_administrator_switches_the_flood_layer_and_routes_triage(browser, watch, live_server, client):
    watch.expected_status.add(401)  # /api/auth/me before logging in
    with transaction() as session:
        accounts.create_user(session, email="chief@city.example", name="Chief", role="admin", password=PASSWORD)
    stuck = client.post(
        "/api/reports", json={"layer": "facilities", "category": "illegal-dumping", "lat": 37.5641, "lon": 126.9977}
    ).json()["id"]  # 중구 has no sanitation office
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    watch.attach(page)
    page.goto(live_server + "/admin?lang=en")
    page.get_by_label("E-mail").fill("chief@city.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
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

    row = page.locator("#triage tr", has=page.locator(f"a[href='/reports/{stuck}']"))
    row.locator("select").select_option("11140-roads")
    row.get_by_role("button", name="Route").click()
    page.locator(f"#triage a[href='/reports/{stuck}']").wait_for(state="detached")
    assert client.get(f"/api/reports/{stuck}").json()["properties"]["office"] == "11140-roads"
    assert page.locator("#users").get_by_text("chief@city.example").count() == 1
    context.close()
