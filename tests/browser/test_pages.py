"""Every page under its Content-Security-Policy in a real browser: it works, and nothing is refused
(the `watch` fixture fails a test on any CSP violation). Hostile query values leave the pages intact."""

import http.server
import threading
from functools import partial
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_map import wait_for_reports

HOSTILE = ["<!--<script>", "</script><script>alert(1)</script>", "\u2028'\"><img src=x onerror=alert(1)>"]


def map_is_running(page) -> None:  # type: ignore[no-untyped-def]
    """Our scripts ran after folium's: the Leaflet map exists and the boundaries have been loaded."""
    page.wait_for_function("() => window.mapapp && window.mapapp.state.boundaries", timeout=15000)
    assert page.locator(".leaflet-control-zoom-in").is_visible()
    assert page.locator(".leaflet-control-layers").count() == 1


def test_the_map_under_its_policy(page, live_server) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(live_server + "/?lang=en")
    assert "'nonce-" in response.headers["content-security-policy"]
    wait_for_reports(page)
    map_is_running(page)
    page.get_by_role("button", name="Report a problem").click()
    page.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
    screenshot(page, "csp-map")


def test_the_widget_under_its_policy(page, live_server, client) -> None:  # type: ignore[no-untyped-def]
    mapo = {"layer": "facilities", "category": "streetlight-out", "lat": 37.5663, "lon": 126.9016}
    assert client.post("/api/reports", json=mapo).status_code == 201
    response = page.goto(live_server + "/embed?layer=facilities&district=11440&mode=report&lang=ko")
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    map_is_running(page)
    page.wait_for_function("() => Object.keys(window.mapapp.state.groups).join() === 'facilities'")
    wait_for_reports(page)
    screenshot(page, "csp-embed")


@pytest.mark.parametrize("param", ["layer", "district"])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_widget_parameters_leave_the_page_intact(page, live_server, param, value) -> None:  # type: ignore[no-untyped-def]
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.goto(f"{live_server}/embed?{urlencode({param: value, 'mode': 'report'})}")
    map_is_running(page)
    assert page.locator("#open-report").is_visible()
    # The value reached our script as data, unchanged, and nothing else ran.
    assert page.evaluate("(k) => window.common.config[k]", param) == value
    assert page.locator("img[src=x]").count() == 0 and alerts == []
    if value == HOSTILE[0] and param == "layer":
        screenshot(page, "csp-embed-hostile-layer")


def test_a_report_page_under_its_policy(page, live_server, client) -> None:  # type: ignore[no-untyped-def]
    public_id = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "description": "</script><!--<script>alert(1)</script>",
        },
    ).json()["id"]
    page.goto(f"{live_server}/reports/{public_id}")
    page.locator("#minimap path.leaflet-interactive").wait_for()  # the minimap script (a file now) ran
    assert page.locator("#description").inner_text() == "</script><!--<script>alert(1)</script>"
    screenshot(page, "csp-report-page")


@pytest.mark.parametrize("path", ["/office", "/admin"])
def test_the_staff_pages_under_their_policy(page, watch, live_server, path) -> None:  # type: ignore[no-untyped-def]
    watch.expected_status.add(401)  # /api/auth/me before logging in
    page.goto(f"{live_server}{path}?lang=en")
    page.locator("#l-email").wait_for()  # staff.js read the page's config and showed the log-in form
    page.locator("#l-email").fill("nobody@city.example")
    page.get_by_label("Password").fill("wrong password, long enough")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_function("() => document.getElementById('login-error').textContent !== ''")


def test_the_api_documentation_under_its_policy(page, live_server) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(live_server + "/docs")
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    page.locator(".opblock-summary-path", has_text="/api/reports/nearby").first.wait_for(timeout=15000)
    page.locator(".opblock-summary", has_text="/api/layers").first.click()  # an operation opens
    page.get_by_role("button", name="Try it out").first.wait_for()
    screenshot(page, "csp-docs")


def test_other_sites_cannot_frame_the_docs_but_can_frame_the_widget(browser, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A page on another origin frames /docs (the browser refuses) and /embed (shown)."""
    (tmp_path / "index.html").write_text(
        f"<!doctype html><iframe id='docs' src='{live_server}/docs'></iframe>"
        f"<iframe id='embed' src='{live_server}/embed'></iframe>",
        encoding="utf-8",
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()  # not watched: the refusal below is a CSP message on purpose
    refused: list[str] = []
    page.on("console", lambda m: "frame-ancestors" in m.text and refused.append(m.text))
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        page.frame_locator("#embed").locator(".leaflet-control-zoom-in").wait_for(timeout=15000)
        page.wait_for_function("() => true")  # let the console catch up
        # One refusal (the docs'); the widget, framed the same way, is shown.
        assert len(refused) == 1 and "frame-ancestors 'self'" in refused[0], refused
        assert page.frame_locator("#docs").locator("#swagger-ui").count() == 0
    finally:
        context.close()
        server.shutdown()
