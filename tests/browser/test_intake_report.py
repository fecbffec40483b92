"""A report that came from a channel message, as the public sees it: the channel, the handle only when the
channel is public, the precision in words; on a desktop and at 390 px."""

import httpx
from sqlalchemy import text

from mapapp.core.db import transaction
from mapapp.intake import gazetteer, service
from mapapp.intake.cli import DEMO_GAZETTEER
from tests.browser.conftest import screenshot


def test_a_channel_report_page_names_its_channel_and_precision(page, live_server):
    with transaction() as session:
        gazetteer.import_gazetteer(session, gazetteer.read_csv(DEMO_GAZETTEER))
        key = service.create_channel(session, name="x-twitter", public_handles=True)
        session.execute(text("SELECT 1"))
    response = httpx.post(
        f"{live_server}/api/intake/messages",
        json={
            "channel": "x-twitter",
            "external_id": "shot-1",
            "author": "<b>@minji</b>",
            "text": "합정역 앞 가로등이 며칠째 꺼져 있어요 😡 #가로등",
            "posted_at": "2026-11-25T21:00:00+09:00",
        },
        headers={"Authorization": f"Bearer {key}"},
    )
    public_id = response.json()["results"][0]["report"]["id"]
    for width, lang in ((1280, "ko"), (390, "en")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server}/reports/{public_id}?lang={lang}")
        channel = page.locator("#channel")
        assert channel.is_visible()
        assert "x-twitter (<b>@minji</b>)" in channel.inner_text()  # shown as text, never as markup
        precision = page.locator("#precision").inner_text()
        assert ("landmark" in precision) if lang == "en" else ("장소" in precision)
        screenshot(page, f"intake-report-{width}")
