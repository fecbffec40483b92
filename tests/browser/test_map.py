"""The citizen's flows in a real browser: look, report with a photo, switch layers, "me too",
report without the map, on a phone, and inside a widget on another site."""

import http.server
import threading
from functools import partial

import pytest
from sqlalchemy import create_engine, text

from tests.browser.conftest import screenshot
from tests.conftest import shared_data
from tests.factories import make_photo

GANGNAM = (37.5172, 127.0473)


def wait_for_reports(page) -> None:  # type: ignore[no-untyped-def]
    try:
        page.wait_for_function(
            "() => window.mapapp && Object.values(window.mapapp.state.groups).some(g => g.getLayers().length > 0)",
            timeout=15000,
        )
    except Exception:
        state = page.evaluate(
            "() => ({ready: !!window.mapapp, groups: window.mapapp && Object.keys(window.mapapp.state.groups), "
            "bounds: window.mapappMap && window.mapappMap.getBounds().toBBoxString(), "
            "size: window.mapappMap && JSON.stringify(window.mapappMap.getSize())})"
        )
        raise AssertionError(f"no reports on the map: {state}") from None


def marker_colour(page, public_id: str) -> str | None:  # type: ignore[no-untyped-def]
    return page.evaluate(
        """(id) => { for (const g of Object.values(window.mapapp.state.groups)) {
                       for (const m of g.getLayers()) { if (m.feature.id === id) return m.options.fillColor; } }
                     return null; }""",
        public_id,
    )


def sql(url: str, statement: str, **params) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def open_form(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="신고하기").click()
    page.wait_for_function("() => document.querySelectorAll('#f-layer option').length > 1")


def test_the_map_shows_layers_boundaries_legend_and_reports(page, live_server):
    page.goto(live_server + "/")
    wait_for_reports(page)
    page.wait_for_function(
        "() => window.mapapp.state.boundaries && window.mapapp.state.boundaries.getLayers().length === 25"
    )
    assert page.locator("h1").inner_text() == "우리동네 위험 신고 지도"
    assert page.locator("#legend").get_by_text("해결").is_visible()
    assert page.locator(".leaflet-control-layers").get_by_text("생활 시설물").count() == 1
    screenshot(page, "map-desktop-ko")
    page.goto(live_server + "/?lang=en")
    wait_for_reports(page)
    assert page.locator("h1").inner_text() == "Community hazard map"
    page.goto(live_server + "/")  # the choice is remembered
    assert page.locator("h1").inner_text() == "Community hazard map"
    screenshot(page, "map-desktop-en")


def test_a_citizen_reports_with_a_geotagged_photo_and_sees_it_on_the_map(page, live_server, tmp_path):
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(make_photo(lat=GANGNAM[0], lon=GANGNAM[1]))
    page.goto(live_server + "/")
    wait_for_reports(page)
    open_form(page)
    page.set_input_files("#f-photos", str(photo))
    page.wait_for_function("() => document.getElementById('f-lat').value !== ''")  # the photo placed the pin
    assert abs(float(page.input_value("#f-lat")) - GANGNAM[0]) < 1e-4
    assert page.locator("#previews img").get_attribute("alt").startswith("신고 사진")
    page.select_option("#f-category", "pothole")
    page.fill("#f-description", "차도에 큰 구멍이 있어요")
    screenshot(page, "report-form-filled")
    page.get_by_role("button", name="신고 보내기").click()
    link = page.locator("#tracking-link")
    link.wait_for(timeout=15000)
    public_id = link.inner_text().split("(")[-1].rstrip(")")
    assert "강남구" in page.locator("#confirmation").inner_text()
    screenshot(page, "report-confirmation")
    page.wait_for_function(
        "(id) => Object.values(window.mapapp.state.groups).some(g => g.getLayers().some(m => m.feature.id === id))",
        arg=public_id,
        timeout=15000,
    )
    assert marker_colour(page, public_id) == "#dc2626"  # open: red
    link.click()
    page.wait_for_selector("#status")
    assert page.locator("#office").inner_text().startswith("강남구")
    assert "강남구" in page.locator("#reason").inner_text()
    screenshot(page, "report-page")


def test_a_real_phone_photo_from_abroad_then_a_tap_in_the_city(page, watch, live_server):
    watch.expected_status.add(422)  # the first attempt is refused: outside the service area
    path = shared_data("photos", "gps", "DSCN0010.jpg")
    page.goto(live_server + "/")
    wait_for_reports(page)
    open_form(page)
    page.set_input_files("#f-photos", str(path))
    page.wait_for_function("() => document.getElementById('f-lat').value !== ''")
    assert float(page.input_value("#f-lat")) == pytest.approx(43.4674, abs=1e-3)  # Arezzo, Italy
    page.select_option("#f-category", "damaged-sidewalk")
    page.get_by_role("button", name="신고 보내기").click()
    page.locator("[data-field=lat] .error").wait_for(state="visible")
    assert "서비스 지역 밖" in page.locator("[data-field=lat] .error").inner_text()
    assert page.input_value("#f-category") == "damaged-sidewalk"  # nothing typed is lost
    # The citizen taps the right place on the map instead.
    page.evaluate("() => window.mapappMap.setView([37.5663, 126.9016], 15)")
    page.locator(".folium-map").click(position={"x": 640, "y": 400})
    page.wait_for_function("() => Math.abs(parseFloat(document.getElementById('f-lat').value) - 37.5663) < 0.01")
    page.get_by_role("button", name="신고 보내기").click()
    page.locator("#tracking-link").wait_for(timeout=15000)


def test_layers_switch_and_a_disaster_layer_comes_and_goes(page, live_server, demo_db):
    page.goto(live_server + "/")
    wait_for_reports(page)
    overlay = page.locator(".leaflet-control-layers label", has_text="생활 시설물").locator("input")
    overlay.uncheck()
    page.wait_for_function("() => !window.mapappMap.hasLayer(window.mapapp.state.groups.facilities)")
    overlay.check()
    sql(demo_db, "UPDATE layers SET state = 'active' WHERE slug = 'flood'")
    try:
        page.locator(".banner.flood").wait_for(timeout=10000)
        assert "호우" in page.locator(".banner.flood").inner_text()
        assert page.locator(".leaflet-control-layers").get_by_text("풍수해(침수)").count() == 1
        screenshot(page, "map-flood-active")
    finally:
        sql(demo_db, "UPDATE layers SET state = 'inactive' WHERE slug = 'flood'")
    page.locator(".banner.flood").wait_for(state="detached", timeout=10000)
    assert page.locator(".leaflet-control-layers").get_by_text("풍수해(침수)").count() == 0


def test_me_too_instead_of_a_duplicate(page, live_server, client):
    existing = client.post(
        "/api/reports", json={"layer": "facilities", "category": "manhole-cover", "lat": 37.6001, "lon": 127.0301}
    ).json()["id"]
    page.goto(live_server + "/")
    wait_for_reports(page)
    open_form(page)
    page.select_option("#f-category", "manhole-cover")
    page.fill("#f-lat", "37.60012")
    page.fill("#f-lon", "127.03011")
    page.press("#f-lon", "Tab")
    button = page.locator(f".me-too[data-id='{existing}']")
    button.wait_for(timeout=10000)
    screenshot(page, "nearby-me-too")
    button.click()
    page.get_by_text("함께 신고했습니다").wait_for()
    assert client.get(f"/api/reports/{existing}").json()["properties"]["supporters"] == 1


def test_reporting_with_the_keyboard_alone_by_coordinates_or_address(page, live_server):
    page.goto(live_server + "/?lang=en")
    wait_for_reports(page)
    page.keyboard.press("Tab")
    for _ in range(8):
        if page.evaluate("() => document.activeElement.id") == "open-report":
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.id === 'f-layer'")
    page.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
    page.keyboard.press("Tab")
    for _ in range(10):  # arrow keys walk the options (each shows its icon, then its name)
        if page.input_value("#f-category") == "streetlight-out":
            break
        page.keyboard.press("ArrowDown")
    assert page.input_value("#f-category") == "streetlight-out"
    for label, value in (("Latitude", "37.5500"), ("Longitude", "126.9500")):
        page.get_by_label(label).fill(value)
    page.get_by_label("Description").fill("Dark corner")
    page.get_by_label("Description").press("Tab")
    page.get_by_role("button", name="Send report").press("Enter")
    page.locator("#tracking-link").wait_for(timeout=15000)
    # An address naming the district works as well.
    page.get_by_role("button", name="Report a problem").click()
    page.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
    page.select_option("#f-category", "illegal-dumping")
    page.get_by_label("Address (with the dong or district)").fill("서울 마포구 월드컵북로 1")
    page.get_by_role("button", name="Send report").click()
    page.locator("#tracking-link").wait_for(timeout=15000)
    assert "Mapo-gu" in page.locator("#confirmation").inner_text()


def test_a_phone_in_the_street(browser, watch, live_server, tmp_path):
    context = browser.new_context(
        viewport={"width": 375, "height": 667},
        is_mobile=True,
        has_touch=True,
        locale="ko-KR",
        geolocation={"latitude": 37.5663, "longitude": 126.9016},
        permissions=["geolocation"],
    )
    page = context.new_page()
    watch.attach(page)
    page.goto(live_server + "/")
    wait_for_reports(page)
    screenshot(page, "map-phone")
    open_form(page)
    panel = page.locator("#report-panel").bounding_box()
    assert panel["width"] == 375 and panel["y"] > 100  # a bottom sheet over the map
    page.get_by_role("button", name="내 위치 사용").click()
    page.wait_for_function("() => document.getElementById('f-lat').value !== ''")
    page.select_option("#f-category", "streetlight-out")
    photo = tmp_path / "light.jpg"
    photo.write_bytes(make_photo())
    page.set_input_files("#f-photos", str(photo))
    screenshot(page, "report-form-phone")
    page.get_by_role("button", name="신고 보내기").click()
    page.locator("#tracking-link").wait_for(timeout=15000)
    screenshot(page, "report-confirmation-phone")
    context.close()
    watch.check()


@pytest.fixture
def other_site(tmp_path, live_server):
    """A page on another origin (another port) embedding the widget with the one-line snippet."""
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>District portal</title></head><body>"
        "<h1>Mapo-gu news</h1>"
        f"<script src='{live_server}/widget.js' data-layer='facilities' data-district='11440' "
        "data-mode='report' data-lang='ko' data-height='560'></script></body></html>",
        encoding="utf-8",
    )
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_widget_on_another_site_shows_the_layer_and_takes_a_report(page, watch, live_server, other_site):
    watch.allowed.add(other_site.removeprefix("http://"))
    page.goto(other_site + "/index.html")
    frame = page.frame_locator("iframe")
    frame.locator("#open-report").wait_for(timeout=15000)
    widget = page.frames[1]
    widget.wait_for_function(
        "() => window.mapapp && window.mapapp.state.boundaries && "
        "window.mapapp.state.boundaries.getLayers().length === 1"
    )
    widget.wait_for_function("() => Object.keys(window.mapapp.state.groups).join() === 'facilities'")
    screenshot(page, "widget-on-another-site")
    frame.locator("#open-report").click()
    widget.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
    frame.locator("#f-category").select_option("illegal-dumping")
    frame.locator("#f-lat").fill("37.5663")
    frame.locator("#f-lon").fill("126.9016")
    frame.locator("#submit-button").click()
    frame.locator("#tracking-link").wait_for(timeout=15000)
    assert frame.locator("#tracking-link").get_attribute("target") == "_blank"


def test_a_widget_of_a_layer_that_is_off_says_so_until_it_is_on(page, live_server, demo_db):
    page.goto(live_server + "/embed?layer=flood&lang=ko")
    message = page.locator("#map-message")
    message.wait_for(timeout=10000)
    assert "이 레이어는 지금 활성화되어 있지 않습니다" in message.inner_text()
    screenshot(page, "embed-layer-off")
    page.goto(live_server + "/embed?layer=flood&lang=en")
    page.get_by_text("This layer is not active now.").wait_for(timeout=10000)
    sql(demo_db, "UPDATE layers SET state = 'active' WHERE slug = 'flood'")
    try:
        message.wait_for(state="hidden", timeout=10000)  # switched on: the map shows the layer instead
        page.wait_for_function("() => Object.keys(window.mapapp.state.groups).join() === 'flood'")
    finally:
        sql(demo_db, "UPDATE layers SET state = 'inactive' WHERE slug = 'flood'")
    message.wait_for(timeout=10000)


# Sums what the map draws from its tiles for one layer, once every tile of the view is in, and the box the
# tiles cover (west, south, east, north).
REPRESENTED = """(slug) => {
  const g = window.mapapp.state.groups[slug], keys = [...g.tiles.keys()].map((k) => k.split("/").map(Number));
  const z = keys[0][0], n = 2 ** z, lon = (x) => x / n * 360 - 180;
  const lat = (y) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI;
  const xs = keys.map((k) => k[1]), ys = keys.map((k) => k[2]);
  const box = [lon(Math.min(...xs)), lat(Math.max(...ys) + 1), lon(Math.max(...xs) + 1), lat(Math.min(...ys))];
  return { z, box, ...g.represented };
}"""


def represented(page, slug: str = "facilities") -> dict:  # type: ignore[no-untyped-def]
    page.wait_for_function(
        "(slug) => window.mapapp && window.mapapp.state.groups[slug] && window.mapapp.complete() && "
        "Object.values(window.mapapp.state.groups).every(g => g.represented)",
        arg=slug,
        timeout=15000,
    )
    return page.evaluate(REPRESENTED, slug)


def test_every_report_is_on_the_map_at_every_zoom_with_its_true_count(page, live_server, client):
    tile_urls: list[str] = []
    page.on("request", lambda r: tile_urls.append(r.url) if "/tiles/" in r.url else None)
    page.goto(live_server + "/")
    wait_for_reports(page)
    for zoom in (None, 9, 13, 15):
        if zoom is not None:
            page.evaluate("(z) => { window.mapappMap.setView([37.5663, 126.9780], z); }", zoom)
            page.wait_for_function("(z) => window.mapappMap.getZoom() === z", arg=zoom)
        got = represented(page)
        west, south, east, north = got["box"]
        expected = client.get(
            "/api/reports", params={"layer": "facilities", "bbox": f"{west},{south},{east},{north}", "limit": 10000}
        ).json()["features"]
        assert got["total"] == len(expected), (zoom, got)
        if got["z"] < 15:  # clusters below the street zooms, points from there
            assert got["clustered"] == len(expected) and got["points"] == 0
        else:
            assert got["points"] + got["hidden"] == len(expected) and got["clustered"] == 0
    assert tile_urls and all("/tiles/facilities/" in u for u in tile_urls)


def test_a_cluster_click_zooms_in_and_a_point_opens_its_report(page, live_server, client):
    public_id = client.post(
        "/api/reports", json={"layer": "facilities", "category": "pothole", "lat": 37.5571, "lon": 126.9368}
    ).json()["id"]
    page.goto(live_server + "/?lang=en")
    wait_for_reports(page)
    represented(page)
    badge = page.locator(".marker-cluster").first
    before = page.evaluate("() => window.mapappMap.getZoom()")
    badge.click()
    page.wait_for_function("(z) => window.mapappMap.getZoom() > z && !window.mapappMap._animatingZoom", arg=before)
    # At the street zooms each report is a point; a click on it opens its popup, with the link to its page.
    page.evaluate("() => { window.mapappMap.setView([37.5571, 126.9368], 16, { animate: false }); }")
    page.wait_for_function(
        "(id) => window.mapapp.complete() && window.mapapp.state.groups.facilities.getLayers()"
        ".some((m) => m.feature.id === id)",
        arg=public_id,
    )
    page.evaluate(
        "(id) => { window.mapapp.state.groups.facilities.getLayers().find((m) => m.feature.id === id).openPopup(); }",
        public_id,
    )
    link = page.locator(".leaflet-popup a", has_text="Details")
    link.wait_for()
    assert link.get_attribute("href").endswith(f"/reports/{public_id}")
    assert "Road damage or pothole" in page.locator(".leaflet-popup").inner_text()
    screenshot(page, "map-point-popup")


def test_the_count_keeps_up_with_tiles_that_land_after_the_view_moved(page, live_server, client):
    """A pan while tiles are in flight: the first batch also waits for a tile the view has dropped. The count
    must follow each tile that lands, not wait for its batch (it once lagged: 0 of 2 reports drawn)."""
    held: list = []
    release = {"all": False}

    def hold(route) -> None:  # type: ignore[no-untyped-def]
        if release["all"]:
            route.continue_()
        else:
            held.append(route)

    def key(url: str) -> str:
        return "/".join(url.split("?")[0].removesuffix(".mvt").split("/")[-3:])

    page.route("**/tiles/**", hold)
    page.goto(live_server + "/")
    page.wait_for_function("() => window.mapapp && window.mapapp.state.groups.facilities")
    page.wait_for_timeout(500)
    first = {key(r.request.url) for r in held}
    assert first, "the map asked for no tiles"
    before = page.evaluate("() => window.mapappMap.getZoom()")
    page.evaluate("() => window.mapappMap.panBy([256, 0], {animate: false})")  # one column in, one out
    page.wait_for_timeout(500)  # the map asks for the new column 150 ms after the move
    assert page.evaluate("() => window.mapappMap.getZoom()") == before
    wanted = set(page.evaluate("() => [...window.mapapp.state.groups.facilities.tiles.keys()]"))
    dropped = first - wanted
    assert dropped, (first, wanted)
    # The new column first, then the first batch's tiles still in view; the dropped ones stay in flight.
    for route in [r for r in held if key(r.request.url) not in first] + [
        r for r in held if key(r.request.url) in first & wanted
    ]:
        route.continue_()
    try:
        got = represented(page)
        west, south, east, north = got["box"]
        expected = client.get(
            "/api/reports", params={"layer": "facilities", "bbox": f"{west},{south},{east},{north}", "limit": 10000}
        ).json()["features"]
        assert expected and got["total"] == len(expected), got
    finally:
        release["all"] = True
        for route in [r for r in held if key(r.request.url) in dropped]:
            route.continue_()


def test_the_page_filters_go_to_the_tile_urls(page, live_server, client):
    tile_urls: list[str] = []
    page.on("request", lambda r: tile_urls.append(r.url) if "/tiles/" in r.url else None)
    page.goto(live_server + "/?status=open&category=pothole")
    wait_for_loaded = represented(page)
    assert tile_urls and all("status=open" in u and "category=pothole" in u for u in tile_urls)
    west, south, east, north = wait_for_loaded["box"]
    expected = client.get(
        "/api/reports",
        params={
            "layer": "facilities",
            "status": "open",
            "category": "pothole",
            "bbox": f"{west},{south},{east},{north}",
            "limit": 10000,
        },
    ).json()["features"]
    assert wait_for_loaded["total"] == len(expected)
