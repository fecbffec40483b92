"""The citizen reopens a resolved report from the link in their e-mail, or asks for that link, in the page."""

import re

import httpx
from sqlalchemy import create_engine, text

from tests.browser.conftest import screenshot


def _resolved_report(live_server: str, demo_db: str, email: str) -> str:
    body = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016, "email": email}
    public_id = httpx.post(f"{live_server}/api/reports", json=body).json()["id"]
    engine = create_engine(demo_db)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE reports SET status = 'resolved', resolved_at = now() WHERE public_id = :p"), {"p": public_id}
        )
    engine.dispose()
    return public_id


def _reopen_link_token(demo_db: str, email: str) -> str:
    engine = create_engine(demo_db)
    with engine.connect() as conn:
        bodies = conn.execute(
            text("SELECT body FROM outbox WHERE channel = 'email' AND recipient = :r ORDER BY id"), {"r": email}
        ).scalars()
        tokens = [m for body in bodies for m in re.findall(r"#reopen=([\w-]+)", body)]
    engine.dispose()
    assert tokens, f"no reopen link was e-mailed to {email}"
    return tokens[-1]


def test_the_link_in_the_email_reopens_the_report_and_leaves_the_address_bar(page, live_server, demo_db):
    public_id = _resolved_report(live_server, demo_db, "reopen-browser@example.org")
    token = _reopen_link_token(demo_db, "reopen-browser@example.org")
    page.goto(f"{live_server}/reports/{public_id}?lang=en#reopen={token}")
    assert "#reopen" not in page.url  # the secret is not left in the address bar or the history
    page.get_by_label("What is still wrong?").fill("The pothole is back after the rain.")
    screenshot(page, "reopen-with-link-en")
    page.get_by_role("button", name="Reopen the report").click()
    page.get_by_text("Reopened: the office is told.").wait_for()
    detail = httpx.get(f"{live_server}/api/reports/{public_id}").json()["properties"]
    assert detail["status"] == "reopened"


def test_without_the_link_the_page_offers_to_send_it_and_says_the_same_to_anyone(page, live_server, demo_db):
    public_id = _resolved_report(live_server, demo_db, "owner@example.org")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server}/reports/{public_id}?lang=ko")
    page.get_by_label("신고할 때 쓴 이메일").fill("someone-else@example.org")
    page.get_by_role("button", name="링크 보내기").click()
    page.get_by_text("이 주소로 신고하셨다면 다시 여는 링크를 보냈습니다.").wait_for()
    screenshot(page, "reopen-ask-link-ko-390")
    assert httpx.get(f"{live_server}/api/reports/{public_id}").json()["properties"]["status"] == "resolved"
