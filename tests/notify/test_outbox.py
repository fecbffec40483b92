"""Notifications: written with the event, delivered by the worker over real SMTP and HTTP, and never
lost while the relay or the webhook target is down."""

import hashlib
import hmac
import http.server
import json
import re
import threading
from typing import ClassVar

import pytest

from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox
from tests.conftest import sql
from tests.factories import office_id
from tests.notify.sinks import deliver, free_port, receiving_smtp, smtp_settings


@pytest.fixture
def relay(monkeypatch):
    """Settings pointing at a local SMTP port (started by the test when it wants the relay up)."""
    with smtp_settings(monkeypatch, MAPAPP_NOTIFY_RETRY_BASE_SECONDS="0") as port:
        yield port


def pending(demo_db, channel="email"):
    return sql(
        demo_db,
        "SELECT recipient, attempts, last_error FROM outbox WHERE status = 'pending' AND channel = :c ORDER BY id",
        c=channel,
    )


def test_the_citizen_is_told_and_nothing_is_lost_while_smtp_is_down(client, demo_db, relay):
    deliver()  # clear what earlier tests left
    response = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "email": "citizen.one@example.org",
            "locale": "ko",
        },
    )
    assert response.status_code == 201
    public_id = response.json()["id"]
    sent, failed = deliver()  # nothing listens on the relay port
    assert (sent, failed) == (0, 1)
    [(recipient, attempts, error)] = pending(demo_db)
    assert recipient == "citizen.one@example.org" and attempts == 1 and "Connection" in error

    with receiving_smtp(relay) as inbox:
        assert deliver() == (1, 0)
    assert pending(demo_db) == []
    [mail] = inbox.messages
    assert mail["to"] == "citizen.one@example.org" and mail["subject"].startswith("[신고 접수]")
    assert re.fullmatch(r"<outbox-\d+\.[0-9a-f]{16}@localhost>", mail["message_id"])  # the id a receiver dedupes on
    assert public_id in mail["body"] and "마포구" in mail["body"]


def test_acknowledged_and_resolved_are_told_in_the_citizens_language(client, demo_db, relay):
    from mapapp.accounts import service as accounts

    with transaction() as session:
        accounts.create_user(
            session,
            email="fixer@mapo.example",
            name="Fixer",
            role="staff",
            password="a long enough password",
            office_id=office_id(session, "11440-roads"),
        )
    token = client.post(
        "/api/auth/login", json={"email": "fixer@mapo.example", "password": "a long enough password"}
    ).json()["token"]
    client.cookies.clear()
    public_id = client.post(
        "/api/reports",
        json={
            "layer": "facilities",
            "category": "pothole",
            "lat": 37.5663,
            "lon": 126.9016,
            "email": "visitor@example.org",
            "locale": "en",
        },
    ).json()["id"]
    headers = {"Authorization": f"Bearer {token}"}
    for to, extra in (("acknowledged", {}), ("in_progress", {}), ("resolved", {"public_note": "Patched today."})):
        assert (
            client.post(f"/api/reports/{public_id}/status", json={"to": to, **extra}, headers=headers).status_code
            == 200
        )
    with receiving_smtp(relay) as inbox:
        deliver()
    mine = inbox.to("visitor@example.org")
    assert [m["subject"].split("]")[0] for m in mine] == [
        "[Report received",
        "[Report acknowledged",
        "[In progress",  # work started: a public update (issue 12)
        "[Report resolved",
    ]
    assert "Patched today." in mine[-1]["body"]


class Hook(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[bytes, str]]] = []
    deliveries: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append((body, self.headers["X-Mapapp-Signature"]))
        Hook.deliveries.append(self.headers["X-Mapapp-Delivery"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass


def test_webhooks_are_signed_and_retried_until_the_target_is_back(client, demo_db, relay, monkeypatch):
    port = free_port()
    monkeypatch.setenv("MAPAPP_WEBHOOK_URL", f"http://127.0.0.1:{port}/hook")
    monkeypatch.setenv("MAPAPP_WEBHOOK_SECRET", "s3cret-for-tests")
    get_settings.cache_clear()
    public_id = client.post(
        "/api/reports", json={"layer": "facilities", "category": "streetlight-out", "lat": 37.5663, "lon": 126.9016}
    ).json()["id"]
    _, failed = deliver()
    assert failed >= 1 and pending(demo_db, "webhook")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        deliver()
    finally:
        server.shutdown()
    assert pending(demo_db, "webhook") == []
    body, sig = next((b, s) for b, s in Hook.received if public_id.encode() in b)
    assert sig == "sha256=" + hmac.new(b"s3cret-for-tests", body, hashlib.sha256).hexdigest()
    assert json.loads(body)["event"] == "report.created" and json.loads(body)["data"]["office"] == "11440-roads"
    # The id a receiver dedupes on: the same in the header and the body, the outbox row's id.
    delivery = json.loads(body)["delivery"]
    assert str(delivery) in Hook.deliveries and isinstance(delivery, int)


def test_the_office_is_told_of_a_new_report(client, demo_db, relay):
    sql(demo_db, "UPDATE offices SET email = 'roads@gangnam.example' WHERE slug = '11680-roads'")
    client.post("/api/reports", json={"layer": "facilities", "category": "pothole", "lat": 37.5172, "lon": 127.0473})
    assert "roads@gangnam.example" in [r[0] for r in pending(demo_db)]


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1).total_seconds() == get_settings().notify_retry_base_seconds
    assert outbox.backoff(50).total_seconds() == 3600


def test_the_message_id_is_stable_and_names_the_outbox_row():
    from mapapp.notify.senders import message_id

    assert message_id(123) == message_id(123) != message_id(124)
    assert message_id(123).startswith("<outbox-123.") and message_id(123).endswith("@localhost>")


def test_a_long_korean_subject_and_body_arrive_as_written():
    from email import message_from_bytes, policy

    from mapapp.notify.senders import Outgoing, email_bytes

    subject = "[신고 접수] 마포구 도로 파손 신고가 접수되었습니다 — 처리 상황은 아래 링크에서 확인하실 수 있습니다"
    raw = email_bytes(
        Outgoing(id=7, channel="email", recipient="a@example.org", subject=subject, body="본문\n"), sender="m@x.org"
    )
    mail = message_from_bytes(raw, policy=policy.default)
    assert str(mail["subject"]) == subject and mail.get_content() == "본문\n"
