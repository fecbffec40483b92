"""The reporter and the supporters who left an e-mail with "me too" are told of every move of their
report, in their own language, through the outbox and a real local SMTP server; one POST unsubscribes."""

import re
from email import message_from_bytes, policy
from typing import Any

import pytest

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.notify.senders import NetworkSender
from tests.notify.sinks import deliver, receiving_smtp, smtp_settings

STAFF_EMAIL = "kim.minsu.admin@city.example"
STAFF_NAME = "Kim Minsu"
PASSWORD = "a long enough password"


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on a local port, and the settings pointing at it."""
    with smtp_settings(monkeypatch, MAPAPP_NOTIFY_RETRY_BASE_SECONDS="0") as port, receiving_smtp(port) as inbox:
        yield inbox


@pytest.fixture
def admin(client):
    from sqlalchemy import select

    from mapapp.accounts.models import User

    with transaction() as session:
        if session.scalar(select(User).where(User.email == STAFF_EMAIL)) is None:
            accounts.create_user(session, email=STAFF_EMAIL, name=STAFF_NAME, role="admin", password=PASSWORD)
    token = client.post("/api/auth/login", json={"email": STAFF_EMAIL, "password": PASSWORD}).json()["token"]
    client.cookies.clear()
    return {"Authorization": f"Bearer {token}"}


def new_report(client, email: str, locale: str) -> str:
    response = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "email": email,
            "locale": locale,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def me_too(client, public_id: str, browser: str, email: str, locale: str) -> dict[str, Any]:
    response = client.post(
        f"/api/reports/{public_id}/support", json={"supporter": browser, "email": email, "locale": locale}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def ok(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text


def tags(messages: list[dict[str, Any]]) -> list[str]:
    return [m["subject"].split("]")[0] + "]" for m in messages]


def test_every_move_is_told_to_reporter_and_supporters_in_their_language(client, smtp, admin):
    deliver()  # what earlier tests left in the outbox
    smtp.messages.clear()
    smtp.raw.clear()
    reporter = "reporter.ko@example.org"
    public_id = new_report(client, reporter, "ko")
    assert me_too(client, public_id, "browser-en-000001", "Fan.EN@example.org", "en")["following"] is True
    assert me_too(client, public_id, "browser-ko-000001", "fan.ko@example.org", "ko")["following"] is True
    # The same address again follows once and is not mailed twice.
    assert me_too(client, public_id, "browser-en-000002", "fan.en@example.org", "en")["following"] is True

    ok(
        client.post(
            f"/api/reports/{public_id}/transfer", json={"to_office": None, "reason": "Not a road defect"}, headers=admin
        )
    )
    ok(
        client.post(
            f"/api/triage/{public_id}/route", json={"office": "11440-roads", "note": "Roads after all"}, headers=admin
        )
    )
    ok(client.post(f"/api/reports/{public_id}/status", json={"to": "acknowledged"}, headers=admin))
    ok(client.post(f"/api/reports/{public_id}/status", json={"to": "in_progress"}, headers=admin))
    ok(
        client.post(
            f"/api/reports/{public_id}/status", json={"to": "resolved", "public_note": "Patched today."}, headers=admin
        )
    )
    deliver()
    resolved_mail = smtp.to(reporter)[-1]
    token = re.search(r"#reopen=(\S+)", resolved_mail["body"]).group(1)
    ok(client.post(f"/api/reports/{public_id}/reopen", json={"token": token, "reason": "Still a hole"}))
    ok(
        client.post(
            f"/api/reports/{public_id}/status",
            json={"to": "closed", "reason": "cannot_fix", "public_note": "Private land: the owner must repair it."},
            headers=admin,
        )
    )
    deliver()

    assert tags(smtp.to(reporter)) == [
        "[신고 접수]",
        "[담당 변경]",
        "[담당 지정]",
        "[신고 확인]",
        "[처리 중]",
        "[처리 완료]",
        "[다시 열림]",
        "[종결]",
    ]
    assert tags(smtp.to("fan.en@example.org")) == [
        "[Following a report]",
        "[Report transferred]",
        "[Report routed]",
        "[In progress]",
        "[Report resolved]",
        "[Report reopened]",
        "[Report closed]",
    ]
    assert tags(smtp.to("fan.ko@example.org")) == [
        "[알림 신청]",
        "[담당 변경]",
        "[담당 지정]",
        "[처리 중]",
        "[처리 완료]",
        "[다시 열림]",
        "[종결]",
    ]
    en = {tags([m])[0]: m["body"] for m in smtp.to("fan.en@example.org")}
    ko = {tags([m])[0]: m["body"] for m in smtp.to("fan.ko@example.org")}
    assert "the city's triage team" in en["[Report transferred]"] and "Not a road defect" in en["[Report transferred]"]
    assert "Mapo" in en["[Report routed]"] and "마포구" in ko["[담당 지정]"]
    assert "Patched today." in en["[Report resolved]"] and "#reopen=" not in en["[Report resolved]"]
    assert "Still a hole" in ko["[다시 열림]"]
    # The close reason in words, never the code.
    assert "it cannot be fixed" in en["[Report closed]"] and "cannot_fix" not in en["[Report closed]"]
    assert "처리할 수 없는" in ko["[종결]"] and "Private land" in ko["[종결]"]
    for m in smtp.messages:
        if m["to"] in (reporter, "fan.en@example.org", "fan.ko@example.org"):
            assert m["unsubscribe_post"] == "List-Unsubscribe=One-Click"
            assert re.fullmatch(r"<https?://\S+/api/reports/unsubscribe/[0-9a-f]{40}>", m["unsubscribe"])
            assert m["unsubscribe"][1:-1] in m["body"]
    # No staff member's address or name in anything sent to citizens.
    for raw in smtp.raw:
        assert STAFF_EMAIL.encode() not in raw and STAFF_NAME.encode() not in raw
        text_ = message_from_bytes(raw, policy=policy.default).get_content()
        assert STAFF_EMAIL not in text_ and STAFF_NAME not in text_


def test_a_duplicate_is_told_with_a_link_to_the_original(client, smtp, admin):
    deliver()
    smtp.messages.clear()
    original = new_report(client, "first@example.org", "ko")
    duplicate = new_report(client, "second.en@example.org", "en")
    me_too(client, duplicate, "browser-dup-00001", "fan.dup@example.org", "ko")
    ok(client.post(f"/api/reports/{duplicate}/status", json={"to": "acknowledged"}, headers=admin))
    ok(
        client.post(
            f"/api/reports/{duplicate}/status",
            json={"to": "closed", "reason": "duplicate", "duplicate_of": original},
            headers=admin,
        )
    )
    deliver()
    [en] = [m for m in smtp.to("second.en@example.org") if m["subject"].startswith("[Merged as a duplicate]")]
    [ko] = [m for m in smtp.to("fan.dup@example.org") if m["subject"].startswith("[중복 신고로 병합]")]
    assert f"/reports/{original}" in en["body"] and f"/reports/{original}" in ko["body"]
    assert not smtp.to("first@example.org")[1:]  # the original's reporter hears nothing of the merge


def test_one_post_unsubscribes_and_stops_further_mail(client, smtp, admin):
    deliver()
    smtp.messages.clear()
    public_id = new_report(client, "owner@example.org", "en")
    me_too(client, public_id, "browser-uns-00001", "leaving@example.org", "ko")
    deliver()
    [welcome] = smtp.to("leaving@example.org")
    link = welcome["unsubscribe"][1:-1]
    path = link[link.index("/api/") :]
    page = client.get(path)
    assert page.status_code == 200 and "메일 그만 받기" in page.text and 'method="post"' in page.text
    # A GET (a mail scanner following the link) changes nothing; the mail client's one POST does.
    ok(client.post(f"/api/reports/{public_id}/transfer", json={"to_office": None, "reason": "Check"}, headers=admin))
    deliver()
    assert tags(smtp.to("leaving@example.org")) == ["[알림 신청]", "[담당 변경]"]
    done = client.post(
        path, content="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert done.status_code == 200 and public_id in done.text
    assert client.post(path, content="List-Unsubscribe=One-Click").status_code == 200  # repeating is harmless
    ok(client.post(f"/api/triage/{public_id}/route", json={"office": "11440-roads"}, headers=admin))
    # "Me too" again with the same address does not subscribe it again.
    assert me_too(client, public_id, "browser-uns-00002", "leaving@example.org", "ko")["following"] is False
    deliver()
    assert tags(smtp.to("leaving@example.org")) == ["[알림 신청]", "[담당 변경]"]
    assert tags(smtp.to("owner@example.org"))[-1] == "[Report routed]"  # the others are still told
    assert client.post("/api/reports/unsubscribe/" + "0" * 40).status_code == 404


def test_me_too_e_mails_are_limited_per_address(client, smtp, monkeypatch):
    from mapapp import ratelimit

    monkeypatch.setenv("MAPAPP_RATELIMIT_ENABLED", "true")
    monkeypatch.setenv("MAPAPP_RATELIMIT_EMAIL_PER_HOUR", "1")
    monkeypatch.setenv("MAPAPP_RATELIMIT_EMAIL_BURST", "2")
    get_settings.cache_clear()
    limit = ratelimit.limit_named("email")
    deliver()
    smtp.messages.clear()
    ids = [new_report(client, f"r{i}@example.org", "en") for i in range(int(limit.burst) + 1)]
    following = [
        me_too(client, p, f"browser-lim-{i:05d}", "target@example.org", "en")["following"] for i, p in enumerate(ids)
    ]
    assert following.count(True) == int(limit.burst) and following[-1] is False
    deliver()
    assert len(smtp.to("target@example.org")) == int(limit.burst)


def test_an_e_mail_over_1000_bytes_reaches_a_strict_relay(smtp):
    """Regression: e-mails went out with bare LF line ends, so an SMTP server saw one line of the whole
    message and refused every e-mail over 1,000 bytes (the reporter's 'received' and 'resolved' ones)."""
    from mapapp.notify.senders import Outgoing

    body = "신고가 처리되었습니다.\n" * 80
    sender = NetworkSender()
    try:
        sender.send(Outgoing(id=424242, channel="email", recipient="long@example.org", subject="[긴 메일]", body=body))
    finally:
        sender.close()
    [mail] = smtp.to("long@example.org")
    assert mail["body"] == body
