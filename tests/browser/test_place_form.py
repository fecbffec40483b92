"""The report form names the place while the citizen picks the point (in Korean and English, heard by
screen readers), forgets it after sending, and the no-map path with a dong's name makes a report whose page
says it was located by the dong's name."""

from sqlalchemy import create_engine, text

from tests.browser.conftest import screenshot


def inside(demo_db: str, dong: str) -> tuple[float, float]:
    """A point inside the dong (its representative point), as (lat, lon)."""
    engine = create_engine(demo_db)
    with engine.connect() as conn:
        lat, lon = conn.execute(
            text(
                "SELECT ST_Y(ST_PointOnSurface(geom)), ST_X(ST_PointOnSurface(geom)) "
                "FROM jurisdictions WHERE name_ko = :n"
            ),
            {"n": dong},
        ).one()
    engine.dispose()
    return lat, lon


def tap_map_at(page, lat: float, lon: float) -> None:  # type: ignore[no-untyped-def]
    """Centre the map on the point and tap it there, as a finger would."""
    # The form listens for taps once the page and its layers are loaded.
    page.wait_for_load_state("load")
    page.wait_for_function("() => !!window.mapappMap && window.mapapp && window.mapapp.state.layers.length > 0")
    page.evaluate("([lat, lon]) => window.mapappMap.setView([lat, lon], 17, {animate: false})", [lat, lon])
    point = page.evaluate(
        "([lat, lon]) => { const p = window.mapappMap.latLngToContainerPoint([lat, lon]);"
        " const r = window.mapappMap.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }",
        [lat, lon],
    )
    page.mouse.click(point[0], point[1])


def test_tapping_the_map_names_the_place_in_both_languages(browser, watch, live_server, demo_db):
    # Two dong: the first report's marker must not be under the second tap.
    for width, height, locale, name, dong, ko, en in (
        (1280, 800, "ko-KR", "desktop", "합정동", "마포구 합정동", "Hapjeong-dong, Mapo-gu"),
        (390, 844, "en-US", "390", "서교동", "마포구 서교동", "Seogyo-dong, Mapo-gu"),
    ):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale, has_touch=True)
        page = context.new_page()
        watch.attach(page)
        page.goto(live_server + "/")
        tap_map_at(page, *inside(demo_db, dong))
        status = page.locator("#pin-status")
        assert status.get_attribute("aria-live") == "polite"
        try:
            page.wait_for_function(
                "(en) => document.getElementById('pin-status').textContent.includes(en)",
                arg=en,
                timeout=10000,
            )
        except Exception:
            raise AssertionError(f"{name}: {status.inner_html()!r}, pin {page.input_value('#f-lat')}") from None
        said = status.inner_text()
        assert ko in said and en in said
        # The citizen's language comes first; the other one is marked as such for screen readers.
        first, other = (ko, "en") if locale == "ko-KR" else (en, "ko")
        assert said.index(first) == said.index(said.split(": ", 1)[1])
        assert status.locator(f'span[lang="{other}"]').count() == 1
        status.scroll_into_view_if_needed()
        screenshot(page, f"place-form-{name}")

        page.select_option("#f-category", "streetlight-out")
        page.locator("#submit-button").click()
        page.locator("#tracking-link").wait_for(timeout=15000)
        confirmation = page.locator("#confirmation").inner_text()
        assert (ko if locale == "ko-KR" else en) in confirmation
        # Sent: the pin is gone, and so is "location set" and the place.
        assert status.inner_text() == ""
        page.locator("#report-panel").evaluate("(panel) => { panel.hidden = false; }")
        assert page.locator("#pin-status").inner_text() == ""
        context.close()


def test_reporting_without_the_map_by_dong_name(browser, watch, live_server):
    for width, height, locale, lang, name in ((390, 844, "ko-KR", "ko", "390"), (1280, 800, "en-US", "en", "desktop")):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        page = context.new_page()
        watch.attach(page)
        page.goto(live_server + "/")
        page.locator("#open-report").click()
        page.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
        page.select_option("#f-category", "pothole")
        page.locator("#f-address").fill("합정동")
        page.locator("#submit-button").click()
        page.locator("#tracking-link").wait_for(timeout=15000)
        confirmation = page.locator("#confirmation").inner_text()
        located = (
            "동 이름으로 찾은 위치로, 정확한 지점이 아닙니다" if lang == "ko" else "Located by dong name, not exact"
        )
        assert located in confirmation
        screenshot(page, f"place-confirmation-{name}")
        page.locator("#tracking-link").click()
        page.wait_for_url("**/reports/*")
        assert page.locator("#precision").inner_text() == located
        assert "마포구 합정동" in page.locator("#place").inner_text()
        assert "Hapjeong-dong, Mapo-gu" in page.locator("#place").inner_text()
        assert "합정동" in page.locator("#address").inner_text()
        screenshot(page, f"place-report-page-{name}")
        context.close()


def test_an_unknown_address_is_refused_with_a_way_forward(browser, watch, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR")
    page = context.new_page()
    watch.attach(page)
    watch.expected_status.add(422)
    page.goto(live_server + "/")
    page.locator("#open-report").click()
    page.wait_for_function("() => document.querySelectorAll('#f-category option').length > 1")
    page.select_option("#f-category", "pothole")
    page.locator("#f-address").fill("월드컵북로 400 앞")
    page.locator("#submit-button").click()
    error = page.locator("#err-lat")
    error.wait_for(state="visible")
    assert "지도에서 위치를 고르거나 좌표를 입력하세요" in error.inner_text()
    assert page.evaluate("() => document.activeElement.id") == "f-address"
    screenshot(page, "place-address-not-found-390")
    context.close()
