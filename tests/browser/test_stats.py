"""The public dashboard and the public list in a real browser: charts drawn, districts coloured, tables beside
them, nothing wider than a phone, Korean and English; screenshots in test-artifacts/ to be looked at."""

import pytest

from tests.browser.conftest import screenshot


@pytest.fixture(scope="module", autouse=True)
def fresh_figures(demo_db):  # type: ignore[no-untyped-def]
    from mapapp.core.db import transaction
    from mapapp.stats import service

    with transaction() as session:
        assert service.refresh(session) is not None


def fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing sticks out sideways: the page is no wider than the viewport."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page is {width} px wide"


def dashboard_drawn(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("() => document.querySelectorAll('#choropleth path.leaflet-interactive').length === 25")
    # Chart.js drew on every canvas (a canvas it owns has a chart instance).
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas')].every((c) => window.Chart && Chart.getChart(c))"
    )


@pytest.mark.parametrize(("locale", "width", "height"), [("en", 1280, 900), ("ko", 390, 844)])
def test_the_dashboard(browser, watch, live_server, locale, width, height) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": height}, locale=f"{locale}-KR")
    page = context.new_page()
    watch.attach(page)
    from mapapp.stats.service import city_today

    page.goto(f"{live_server}/stats?lang={locale}&from=2024-11-26&to={city_today()}")
    dashboard_drawn(page)
    heading = page.locator("h1").inner_text()
    assert heading.startswith("How the city responds" if locale == "en" else "신고 처리 현황")
    assert int(page.locator("#fig-received").inner_text().replace(",", "")) > 0
    # Every chart has its table beside it, named for screen readers.
    for key in ("backlog", "by_category", "by_layer", "by_channel"):
        canvas = page.locator(f"#chart-{key}")
        assert canvas.get_attribute("role") == "img" and canvas.get_attribute("aria-describedby") == f"table-{key}"
        assert page.locator(f"#table-{key} tbody tr").count() >= 1
    assert page.locator("#table-districts tbody tr").count() == 25
    fits(page)
    screenshot(page, f"stats-{locale}-{width}")
    page.locator("#choropleth").scroll_into_view_if_needed()
    before = page.evaluate(
        "() => [...document.querySelectorAll('#choropleth path')].map((p) => p.getAttribute('fill'))"
    )
    page.select_option("#indicator", "open_at_end")
    page.wait_for_function("() => location.search.includes('indicator=open_at_end')")
    after = page.evaluate("() => [...document.querySelectorAll('#choropleth path')].map((p) => p.getAttribute('fill'))")
    assert before != after and len(set(after)) > 1
    screenshot(page, f"stats-{locale}-{width}-map")
    context.close()


def test_choosing_a_district_and_switching_language(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/stats?lang=en")
    page.select_option("#scopecode", "district:11440")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/stats?**scopecode=district%3A11440**")
    assert "Mapo-gu" in page.locator("h1").inner_text()
    page.locator("#lang-switch").click()
    assert "마포구" in page.locator("h1").inner_text()
    dashboard_drawn(page)


@pytest.mark.parametrize(("locale", "width", "height"), [("en", 1280, 800), ("ko", 390, 844)])
def test_the_public_list(browser, watch, live_server, locale, width, height) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": height}, locale=f"{locale}-KR")
    page = context.new_page()
    watch.attach(page)
    page.goto(f"{live_server}/reports?lang={locale}")
    assert page.locator("#report-list li a").count() == 20
    page.select_option("select[name=status]", "resolved")
    page.locator("form.list-controls button").click()
    page.wait_for_url("**status=resolved**")
    badges = page.locator("#report-list .status-badge").all_inner_texts()
    assert badges and set(badges) == {"Resolved" if locale == "en" else "해결"}
    fits(page)
    screenshot(page, f"reports-list-{locale}-{width}")
    page.locator("#report-list li a").first.click()
    page.wait_for_selector("#target")
    assert ("usually within" if locale == "en" else "보통") in page.locator("#target").inner_text()
    screenshot(page, f"report-target-{locale}-{width}")
    context.close()
