"""Any city, with no code change: New York's community districts open the map over New York, labelled, in
the city's default language, and take a report; before any city there is a world view that says what to
do; and a base map that cannot load says so and stops crediting its tile source."""

import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from mapapp.core.settings import get_settings
from tests.browser.conftest import Watch, screenshot
from tests.conftest import PROJECT, running_app, shared_data

BOROUGHS = {1: "Manhattan", 2: "Bronx", 3: "Brooklyn", 4: "Queens", 5: "Staten Island"}
TIMES_SQUARE = (40.7580, -73.9855)  # Manhattan Community District 5


@contextmanager
def serve(**env: str) -> Iterator[str]:
    """The application on a free loopback port with these MAPAPP_* settings; the settings are restored after."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        with running_app() as url:
            yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@contextmanager
def browser_page(browser, base: str, **context):  # type: ignore[no-untyped-def]
    watch = Watch({urlparse(base).netloc})
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, **context)
    page = ctx.new_page()
    watch.attach(page)
    try:
        yield page, watch
    finally:
        ctx.close()
    watch.check()


def nyc_file(tmp_path: Path) -> Path:
    """The community districts with a name each ("Manhattan 5"): the city's file has only the number."""
    data = json.loads(shared_data("boundaries", "nyc", "community_districts.geojson").read_text(encoding="utf-8"))
    for feature in data["features"]:
        code = int(feature["properties"]["BoroCD"])
        feature["properties"]["name"] = f"{BOROUGHS[code // 100]} {code % 100}"
    path = tmp_path / "nyc_community_districts.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def nyc_db(fresh_db: str, tmp_path: Path) -> str:
    from mapapp import jurisdictions
    from mapapp.core.db import transaction
    from mapapp.layers import service as layers

    path = nyc_file(tmp_path)
    with transaction() as session:
        layers.sync_layers(session, layers.load_layer_files(PROJECT / "layers"))
        jurisdictions.create_jurisdiction(session, code="NYC", name_ko="뉴욕", name_en="New York City", level="city")
        jurisdictions.import_boundaries(
            session, path=path, level="district", code_field="BoroCD", name_field="name", name_en_field="name"
        )
    return fresh_db


def test_new_york_opens_over_new_york_labelled_in_english_and_takes_a_report(browser, nyc_db):
    with serve(MAPAPP_DEFAULT_LOCALE="en") as base, browser_page(browser, base, locale="fr-FR") as (page, _watch):
        page.goto(base + "/")  # a French browser: neither Korean nor English, so the city's own language
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Community hazard map"
        page.wait_for_function("() => window.mapapp && window.mapapp.state.boundaries")
        page.wait_for_function("() => window.mapapp.state.boundaries.getLayers().length === 71")
        inside = page.evaluate(
            """() => { const b = window.mapappMap.getBounds();
                       return [[40.7075, -74.0113], [40.7580, -73.9855], [40.8500, -73.9400]]
                         .every((p) => b.contains(p)); }"""
        )
        assert inside, "the map's bounds do not contain Manhattan"
        assert page.locator(".district-label").count() == 71
        shown = page.locator(".district-label:not([hidden])")
        assert shown.count() > 5
        assert page.locator("#map-message").is_hidden()
        screenshot(page, "any-city-nyc")
        # Closer in, Midtown's name is on the map.
        page.evaluate(f"() => window.mapappMap.setView([{TIMES_SQUARE[0]}, {TIMES_SQUARE[1]}], 13, {{animate: false}})")
        page.get_by_text("Manhattan 5", exact=True).wait_for()
        screenshot(page, "any-city-nyc-midtown")
        # A report in Times Square, by tapping the map.
        page.get_by_role("button", name="Report a problem").click()
        page.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
        page.select_option("#f-category", "streetlight-out")
        point = page.evaluate(f"() => window.mapappMap.latLngToContainerPoint([{TIMES_SQUARE[0]}, {TIMES_SQUARE[1]}])")
        page.locator(".folium-map").click(position={"x": point["x"], "y": point["y"]})
        page.wait_for_function("() => Math.abs(parseFloat(document.getElementById('f-lat').value) - 40.758) < 0.01")
        page.get_by_role("button", name="Send report").click()
        page.locator("#tracking-link").wait_for(timeout=15000)
        public_id = page.locator("#tracking-link").inner_text().split("(")[-1].rstrip(")")
        screenshot(page, "any-city-nyc-reported")
        report = page.request.get(f"{base}/api/reports/{public_id}").json()
        assert report["properties"]["district"] == "105"
        # The office's queue map opens over the same city, not on a hard-coded centre.
        office = page.request.get(f"{base}/office").text()
        west, south, east, north = json.loads(
            re.search(r'id="page-config">(.*?)</script>', office, re.S).group(1)  # type: ignore[union-attr]
        )["extent"]
        assert west < -73.98 < east and south < 40.75 < north


def test_before_any_city_the_map_shows_the_world_and_says_what_to_do(browser, fresh_db):
    with serve() as base, browser_page(browser, base, locale="ko-KR") as (page, _watch):
        page.goto(base + "/")
        page.locator("#map-message").wait_for()
        assert "mapapp boundaries import" in page.locator("#map-message").inner_text()
        assert page.evaluate("() => window.mapappMap.getZoom()") <= 3
        screenshot(page, "any-city-none")


class Tiles(http.server.BaseHTTPRequestHandler):
    """A tile server that can go away: a grey PNG for every tile while up, 404 while "offline"."""

    up = True
    PNG = b""  # set below

    def do_GET(self) -> None:
        if Tiles.up:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(self.PNG)))
            self.end_headers()
            self.wfile.write(self.PNG)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 200)).save(out, "PNG")
    return out.getvalue()


Tiles.PNG = _png()


@pytest.fixture
def tile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    Tiles.up = True


def test_a_base_map_that_cannot_load_says_so_and_is_not_credited(browser, demo_db, tile_server):
    tiles = f"http://{tile_server}/{{z}}/{{x}}/{{y}}.png"
    with serve(MAPAPP_TILE_URL=tiles, MAPAPP_TILE_ATTRIBUTION="Test Tiles") as base:
        notices = (("ko", "배경 지도를 불러올 수 없습니다"), ("en", "Base map unavailable: reports still work"))
        for locale, words in notices:
            Tiles.up = True
            with browser_page(browser, base, locale="ko-KR") as (page, watch):
                watch.allowed.add(tile_server)
                page.goto(f"{base}/?lang={locale}")
                page.locator(".leaflet-control-attribution", has_text="Test Tiles").wait_for()
                assert page.locator("#tiles-notice").is_hidden()
            Tiles.up = False
            with browser_page(browser, base, locale="ko-KR") as (page, watch):
                watch.allowed.add(tile_server)
                watch.expected_status.add(404)
                page.goto(f"{base}/?lang={locale}")
                page.locator("#tiles-notice").wait_for()
                assert words in page.locator("#tiles-notice").inner_text()
                assert "Test Tiles" not in page.locator(".leaflet-control-attribution").inner_text()
                screenshot(page, f"tiles-unavailable-{locale}")
                # The tiles come back: they are credited again and the notice goes.
                Tiles.up = True
                page.evaluate("() => window.mapappMap.setZoom(window.mapappMap.getZoom() + 1)")
                page.locator(".leaflet-control-attribution", has_text="Test Tiles").wait_for()
                page.locator("#tiles-notice").wait_for(state="hidden")
