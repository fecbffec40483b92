"""The alerts page, the map's link to it and the report page's follow form in a real browser, under the
Content-Security-Policy, desktop and phone, Korean and English (screenshots in test-artifacts/)."""

from tests.browser.conftest import screenshot

PHONE = {"width": 390, "height": 844}


def test_the_map_links_to_alerts_and_the_subscribe_form_works(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/?lang=ko")
    link = page.locator("#alerts-link")
    assert link.inner_text() == "알림·피드"
    screenshot(page, "alerts-map-link")
    link.click()
    page.wait_for_url("**/alerts?lang=ko")
    assert page.locator("h1").inner_text() == "지역 알림과 피드"
    screenshot(page, "alerts-page-ko")
    page.fill("#a-email", "browser.alerts@example.org")
    page.select_option("#a-district", "11440")
    page.select_option("#a-layer", "facilities")
    page.click("#alert-submit")
    page.locator("#alert-sent").wait_for()
    assert "확인 메일" in page.locator("#alert-sent").inner_text()
    screenshot(page, "alerts-page-sent")


def test_the_alerts_page_on_a_phone_in_english(browser, watch, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    page = context.new_page()
    watch.attach(page)
    page.goto(live_server + "/alerts?lang=en&district=11440")
    assert page.locator("h1").inner_text() == "Alerts and feeds for an area"
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"
    screenshot(page, "alerts-page-phone-en")
    watch.expected_status.add(422)  # the form comes back with the problem, as a 422 page
    page.fill("#a-email", "not-an-address@")
    page.locator("#a-email").evaluate("(e) => e.removeAttribute('required')")
    page.evaluate("() => document.getElementById('a-email').type = 'text'")
    page.click("#alert-submit")
    page.locator("#alert-error").wait_for()
    screenshot(page, "alerts-page-phone-error")
    context.close()


def test_a_supporter_follows_a_report_from_its_page(page, live_server, client) -> None:  # type: ignore[no-untyped-def]
    public_id = client.post(
        "/api/reports", json={"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016}
    ).json()["id"]
    page.goto(f"{live_server}/reports/{public_id}?lang=en")
    page.fill("#me-too-email", "follower.browser@example.org")
    page.click("#me-too-button")
    page.wait_for_function("() => document.getElementById('me-too-result').textContent.length > 0")
    assert "at each step" in page.locator("#me-too-result").inner_text()
    assert page.locator("#supporters").inner_text().startswith("1 ")
    screenshot(page, "follow-report")
    assert client.get(f"/api/reports/{public_id}").json()["properties"]["supporters"] == 1
