"""The phone layout, held by geometry: at 360, 390 and 414 px, in Korean and English, with a disaster layer
on, nothing covers anything it must not, the top bar's buttons keep their words whole, and the pin the
citizen taps stays in sight above the report sheet. Screenshots go to test-artifacts/layout-*.png."""

from collections.abc import Iterator

import pytest

from tests.browser.conftest import screenshot
from tests.browser.test_map import sql, wait_for_reports

PHONES = [(360, 740), (390, 844), (414, 896)]

# How many lines an element's text takes: line boxes of its text, told apart by their vertical position.
TEXT_LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
  return tops.size;
}"""


def box(page, selector: str) -> dict[str, float]:  # type: ignore[no-untyped-def]
    b = page.locator(selector).first.bounding_box()
    assert b is not None, f"{selector} is not on screen"
    return b


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """Whether two bounding boxes share any area (touching edges do not count)."""
    return (
        a["x"] < b["x"] + b["width"] - 0.5
        and b["x"] < a["x"] + a["width"] - 0.5
        and a["y"] < b["y"] + b["height"] - 0.5
        and b["y"] < a["y"] + a["height"] - 0.5
    )


@pytest.fixture(scope="module")
def flood_on(demo_db: str) -> Iterator[None]:
    sql(demo_db, "UPDATE layers SET state = 'active' WHERE slug = 'flood'")
    yield
    sql(demo_db, "UPDATE layers SET state = 'inactive' WHERE slug = 'flood'")


@pytest.fixture
def phone(browser, watch, live_server, request):  # type: ignore[no-untyped-def]
    width, height, locale = request.param
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="ko-KR" if locale == "ko" else "en-US",
    )
    page = context.new_page()
    watch.attach(page)
    yield page, width, height, locale
    context.close()


def free_spot(page, y: float) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """A point on the map at height `y` with no marker or cluster on it (a tap there places the pin)."""
    spot = page.evaluate(
        """(y) => {
          const map = window.mapappMap, size = map.getSize();
          const dots = [];
          Object.values(window.mapapp.state.groups).forEach((g) => g.eachLayer((m) => {
            if (map.getBounds().contains(m.getLatLng())) dots.push(map.latLngToContainerPoint(m.getLatLng()));
          }));
          for (let x = size.x / 2, step = 0; step < 40; step++, x = size.x / 2 + (step % 2 ? 1 : -1) * step * 8) {
            const el = document.elementFromPoint(x, y);
            if (!el || el.closest(".marker-cluster, .leaflet-control, #legend, #top")) continue;
            if (dots.some((p) => Math.hypot(p.x - x, p.y - y) < 16)) continue;
            return [x, y];
          }
          return null;
        }""",
        y,
    )
    assert spot, "no free spot to tap on the map"
    return spot[0], spot[1]


@pytest.mark.parametrize(
    "phone",
    [(w, h, loc) for w, h in PHONES for loc in ("ko", "en")],
    ids=[f"{w}-{loc}" for w, _ in PHONES for loc in ("ko", "en")],
    indirect=True,
)
def test_phone_layout(phone, live_server, flood_on):
    page, width, height, locale = phone
    page.goto(f"{live_server}/?lang={locale}")
    wait_for_reports(page)
    page.locator(".banner.flood").wait_for(timeout=10000)
    page.wait_for_function("() => window.mapapp.state.boundaries")
    screenshot(page, f"layout-{width}-{locale}")

    # The top bar's buttons keep their words whole: one line each ("신고하기", "한국어"/"English").
    for selector in ("#open-report", "#lang-switch"):
        lines = page.locator(selector).evaluate(TEXT_LINES)
        assert lines == 1, f"{selector} wraps onto {lines} lines at {width} px ({locale})"
        b = box(page, selector)
        font = page.locator(selector).evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")
        assert b["height"] < font * 1.6 + 2 * 0.5 * 16 + 4, f"{selector} is {b['height']} px tall: more than one line"
        assert b["x"] + b["width"] <= width, f"{selector} runs off the screen"
    # The title's words stay whole too: no line of it is a lone syllable ("지" / "도").
    title_lines = page.locator("#topbar h1").evaluate(TEXT_LINES)
    assert title_lines <= 3

    # The disaster banner sits under the top bar, not across it.
    banner = box(page, ".banner.flood")
    for part in ("#topbar h1", "#open-report", "#lang-switch"):
        assert not overlap(banner, box(page, part)), f"the banner covers {part} at {width} px ({locale})"
    assert banner["x"] + banner["width"] <= width

    # The scale bar does not cover the legend's checkbox.
    checkbox = box(page, "#show-old")
    scale = box(page, ".leaflet-control-scale")
    assert not overlap(scale, checkbox), f"the scale bar covers the legend's checkbox at {width} px ({locale})"
    assert not overlap(scale, box(page, "#legend"))
    assert checkbox["y"] + checkbox["height"] <= height

    # A tap low on the map, where the sheet will open: the map pans so that the pin sits above the sheet.
    x, y = free_spot(page, height * 0.85)
    page.touchscreen.tap(x, y)
    page.locator("#report-panel").wait_for(state="visible")
    pin = page.locator(".leaflet-marker-icon.leaflet-marker-draggable")
    pin.wait_for()
    page.wait_for_function(
        """() => { const pin = document.querySelector('.leaflet-marker-draggable').getBoundingClientRect();
                   return pin.bottom <= document.getElementById('report-panel').getBoundingClientRect().top; }""",
        timeout=5000,
    )
    page.wait_for_timeout(400)  # the pan's animation
    sheet = box(page, "#report-panel")
    pin_box = pin.bounding_box()
    top = box(page, "#top")
    screenshot(page, f"layout-{width}-{locale}-pin")
    assert pin_box["y"] + pin_box["height"] <= sheet["y"], "the pin is under the report sheet"
    assert pin_box["y"] >= top["y"] + top["height"], "the pin is under the top bar or the banner"
    assert pin_box["x"] >= 0 and pin_box["x"] + pin_box["width"] <= width
    assert page.input_value("#f-lat") != ""


def test_a_sent_report_no_longer_says_location_set(browser, watch, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="ko-KR"
    )
    page = context.new_page()
    watch.attach(page)
    page.goto(live_server + "/")
    wait_for_reports(page)
    page.evaluate("() => window.mapappMap.setView([37.5663, 126.9016], 16, {animate: false})")  # Mapo-gu
    x, y = free_spot(page, page.evaluate("() => window.mapappMap.latLngToContainerPoint([37.5663, 126.9016]).y"))
    page.touchscreen.tap(x, y)
    page.wait_for_function("() => document.getElementById('pin-status').textContent.includes('위치가 지정되었습니다')")
    page.wait_for_function("() => document.querySelectorAll('#f-layer option').length > 1")
    page.select_option("#f-layer", "facilities")  # the flood layer may be on too: then no layer is preselected
    page.select_option("#f-category", "streetlight-out")
    page.get_by_role("button", name="신고 보내기").click()
    page.locator("#tracking-link").wait_for(timeout=15000)
    screenshot(page, "layout-390-ko-sent")
    assert "위치가 지정되었습니다" not in page.locator("#report-form").inner_text()
    assert page.locator(".leaflet-marker-draggable").count() == 0
    context.close()
