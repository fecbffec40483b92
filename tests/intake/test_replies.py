"""The answer goes back: acknowledged and resolved reports are answered on their channel, signed, retried;
and the reference connector shows the contract end to end over real HTTP (file, local endpoint, replies)."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from mapapp.accounts import service as accounts
from mapapp.cli import app
from mapapp.core.db import get_engine, transaction
from mapapp.intake import connector, service
from mapapp.notify import service as outbox
from mapapp.notify.replies import ChannelReplySender, channel_reply_secret
from tests.factories import office_id

PASSWORD = "correct horse battery staple"
WHEN = "2026-11-25T08:00:00+09:00"


def free_port() -> int:
    """A free port in this engineer's range (18600-18699)."""
    for port in range(18600, 18700):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18600-18699")


@pytest.fixture(scope="module")
def manager(intake_db, live_server):
    with transaction() as session:
        accounts.create_user(
            session,
            email="manager@mapo-replies.example",
            name="manager",
            role="manager",
            password=PASSWORD,
            office_id=office_id(session, "11440-roads"),
        )
    response = httpx.post(
        f"{live_server}/api/auth/login", json={"email": "manager@mapo-replies.example", "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json()['token']}"}


def deliver() -> outbox.Round:
    """One worker pass with the worker's sender (e-mails to the absent relay just wait)."""
    with transaction() as session:  # everything due now, so the pass does not wait on backoff
        session.execute(text("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'"))
    sender = ChannelReplySender()
    try:
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return outbox.deliver_due(conn, sender=sender)
    finally:
        sender.close()


def move(live_server, headers, public_id, to, **extra):
    response = httpx.post(f"{live_server}/api/reports/{public_id}/status", json={"to": to, **extra}, headers=headers)
    assert response.status_code == 200, response.text


def test_acknowledged_and_resolved_are_answered_on_the_channel_signed_and_retried(live_server, manager):
    port = free_port()
    receiver = connector.ReplyReceiver(channel_reply_secret("kakao-replies"), port=port).start()
    with transaction() as session:
        key = service.create_channel(session, name="kakao-replies", kind="social", reply_url=receiver.url)
    try:
        [result] = connector.post_messages(
            live_server,
            key,
            iter(
                [
                    {
                        "channel": "kakao-replies",
                        "external_id": "kr-1",
                        "account": "seoul_talk",
                        "author": "민지",
                        "text": "연남동 가로등이 꺼져 있어요",
                        "posted_at": WHEN,
                    }
                ]
            ),
        )
        public_id = result["report"]["id"]
        assert result["outcome"] == "routed"
        move(live_server, manager, public_id, "acknowledged")
        deliver()
        assert [r["data"]["status"] for r in receiver.replies] == ["acknowledged"]
        reply = receiver.replies[0]
        assert reply["event"] == "channel.reply" and isinstance(reply["delivery"], int)
        assert {k: reply["data"][k] for k in ("channel", "external_id", "account", "author", "lang", "report")} == {
            "channel": "kakao-replies",
            "external_id": "kr-1",
            "account": "seoul_talk",
            "author": "민지",
            "lang": "ko",
            "report": public_id,
        }
        assert "담당 부서가 제보를 확인했습니다" in reply["data"]["text"]
        # The connector is down when the report is resolved: the reply waits and is sent once it is back.
        receiver.stop()
        move(live_server, manager, public_id, "in_progress")
        move(live_server, manager, public_id, "resolved", public_note="가로등을 교체했습니다.")
        assert deliver().failed >= 1
        with transaction() as session:
            waiting = (
                session.execute(
                    text(
                        "SELECT last_error FROM outbox WHERE payload->>'event' = 'channel.reply' AND status = 'pending'"
                    )
                )
                .scalars()
                .all()
            )
        assert len(waiting) == 1 and "ConnectError" in waiting[0]
        receiver = connector.ReplyReceiver(channel_reply_secret("kakao-replies"), port=port).start()
        deliver()
        [resolved] = receiver.replies
        assert resolved["data"]["status"] == "resolved" and "가로등을 교체했습니다." in resolved["data"]["text"]
    finally:
        receiver.stop()


def test_a_reply_signed_for_another_channel_is_refused_by_the_connector(live_server, manager):
    port = free_port()
    receiver = connector.ReplyReceiver(channel_reply_secret("someone-else"), port=port).start()
    with transaction() as session:
        key = service.create_channel(session, name="sms", kind="phone", reply_url=receiver.url)
    try:
        [result] = connector.post_messages(
            live_server,
            key,
            iter(
                [
                    {
                        "channel": "sms",
                        "external_id": "s-1",
                        "text": "Hapjeong-dong streetlight is out",
                        "posted_at": WHEN,
                    }
                ]
            ),
        )
        move(live_server, manager, result["report"]["id"], "acknowledged")
        done = deliver()
        assert done.failed >= 1 and receiver.replies == [] and receiver.refused == 1
    finally:
        receiver.stop()


def test_english_messages_are_answered_in_english(live_server, manager):
    port = free_port()
    receiver = connector.ReplyReceiver(channel_reply_secret("facebook"), port=port).start()
    with transaction() as session:
        key = service.create_channel(session, name="facebook", reply_url=receiver.url)
    try:
        [result] = connector.post_messages(
            live_server,
            key,
            iter(
                [
                    {
                        "channel": "facebook",
                        "external_id": "f-1",
                        "text": "street light out in Yeonnam-dong",
                        "posted_at": WHEN,
                    }
                ]
            ),
        )
        move(live_server, manager, result["report"]["id"], "acknowledged")
        deliver()
        [reply] = receiver.replies
        assert reply["data"]["lang"] == "en" and reply["data"]["text"].startswith("The responsible office has seen")
    finally:
        receiver.stop()


def test_a_report_hidden_by_moderation_is_not_answered_on_its_channel(live_server, manager):
    port = free_port()
    receiver = connector.ReplyReceiver(channel_reply_secret("line"), port=port).start()
    with transaction() as session:
        key = service.create_channel(session, name="line", reply_url=receiver.url)
    try:
        text_ = "street light out in Yeonnam-dong"
        message = {"channel": "line", "external_id": "l-1", "text": text_, "posted_at": WHEN}
        [result] = connector.post_messages(live_server, key, iter([message]))
        public_id = result["report"]["id"]
        hidden = httpx.post(
            f"{live_server}/api/moderation/reports/{public_id}/hide", json={"reason": "spam"}, headers=manager
        )
        assert hidden.status_code == 200, hidden.text
        move(live_server, manager, public_id, "acknowledged")  # still the office's work
        deliver()
        assert receiver.replies == []
        with transaction() as session:
            queued = session.scalar(
                text("SELECT count(*) FROM outbox WHERE payload->>'event' = 'channel.reply' AND payload::text LIKE :p"),
                {"p": f"%{public_id}%"},
            )
        assert queued == 0
    finally:
        receiver.stop()


def test_the_connector_reads_a_local_http_endpoint_and_the_import_command_streams_a_file(live_server, tmp_path):
    with transaction() as session:
        key = service.create_channel(session, name="call-import", kind="phone")
    lines = [
        {"channel": "call-import", "external_id": f"ci-{i}", "text": body, "posted_at": WHEN}
        for i, body in enumerate(["신림동 포트홀", "강남구 대치동 쓰레기 무단투기", "Pothole near Jamsil Station"])
    ]
    payload = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()

    class Feed(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: object) -> None:
            return

    feed = ThreadingHTTPServer(("127.0.0.1", free_port()), Feed)
    threading.Thread(target=feed.serve_forever, daemon=True).start()
    try:
        run = CliRunner().invoke(
            app, ["connector", f"http://127.0.0.1:{feed.server_address[1]}/feed", "--key", key, "--url", live_server]
        )
    finally:
        feed.shutdown()
        feed.server_close()
    assert run.exit_code == 0, run.output
    assert run.output.count("routed") == 3
    # The same messages and two more from a file: the three are found again, the new ones come in.
    more = [
        *lines,
        {"channel": "call-import", "external_id": "ci-3", "text": "서초동 신호등 고장", "posted_at": WHEN},
        {"channel": "call-import", "external_id": "ci-4", "text": "고마워요 서울시", "posted_at": WHEN},
    ]
    file = tmp_path / "calls.jsonl"
    file.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in more), encoding="utf-8")
    run = CliRunner().invoke(app, ["intake", "import", str(file), "--channel", "call-import"])
    assert run.exit_code == 0, run.output
    assert "imported 5 messages" in run.output and "3 replayed" in run.output
    # A malformed line is refused with its line number, and its chunk is not stored.
    file.write_text(json.dumps({**more[0], "external_id": "ci-9"}) + '\n{"channel": "call-import"}\n')
    run = CliRunner().invoke(app, ["intake", "import", str(file), "--channel", "call-import"])
    assert run.exit_code == 2 and "line 2" in run.output and "invalid_message" in run.output
    with transaction() as session:
        assert session.execute(text("SELECT count(*) FROM intake_messages WHERE external_id = 'ci-9'")).scalar() == 0
