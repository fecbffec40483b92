"""Real local servers for what the outbox sends: an SMTP server that keeps every message (`receiving_smtp`,
with `smtp_settings` pointing the settings at it), and an SMTP and a webhook server that count what they
receive by message id (the e-mail Message-ID, the X-Mapapp-Delivery header): how duplicates are found."""

import http.server
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from mapapp.core.db import get_engine
from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox
from mapapp.notify.senders import NetworkSender


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """Every message as received: the raw bytes, and its envelope recipient, headers and body."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.messages: list[dict[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.content)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            {
                "to": envelope.rcpt_tos[0],
                "subject": str(msg["subject"]),
                "message_id": str(msg["message-id"]),
                "body": msg.get_content(),
                "unsubscribe": re.sub(r"\s+", "", str(msg["list-unsubscribe"] or "")),  # a long header is folded
                "unsubscribe_post": str(msg["list-unsubscribe-post"] or ""),
            }
        )
        return "250 OK"

    def to(self, address: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m["to"] == address]


@contextmanager
def receiving_smtp(port: int) -> Iterator[Inbox]:
    """A real SMTP server on a local port, its inbox kept; stopped on leaving."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def smtp_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[int]:
    """The settings pointing at a free local SMTP port (nothing listens there yet), with `env` besides; the
    port. The settings are as before on leaving."""
    port = free_port()
    monkeypatch.setenv("MAPAPP_SMTP_PORT", str(port))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield port
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def deliver() -> tuple[int, int]:
    """One pass of the worker over the outbox, through the network senders: how many sent, how many failed."""
    sender = NetworkSender()
    try:
        with get_engine().connect() as conn:
            done = outbox.deliver_due(conn, sender=sender)
    finally:
        sender.close()
    return done.sent, done.failed


class _Inbox:
    def __init__(self, sinks: "Sinks") -> None:
        self.sinks = sinks

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        match = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.I | re.M)
        with self.sinks.lock:
            self.sinks.emails[match.group(1).decode() if match else "?"] += 1
        return "250 OK"


class Sinks:
    """Start with `start()`; `smtp_port` and `webhook_url` say where; `emails` and `webhooks` count by id."""

    def __init__(self, *, smtp_port: int = 0, webhook_port: int = 0, webhook_delay: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.emails: Counter[str] = Counter()
        self.webhooks: Counter[str] = Counter()
        self.bodies: dict[str, bytes] = {}
        # aiosmtpd cannot take port 0 (it connects to its own port to check it started): choose one here.
        self._smtp_port = smtp_port or free_port()
        self._webhook_port, self.webhook_delay = webhook_port, webhook_delay
        self.smtp: Controller | None = None
        self.http: http.server.ThreadingHTTPServer | None = None

    def start_smtp(self) -> None:
        self.smtp = Controller(_Inbox(self), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

    def start_webhook(self) -> None:
        sinks = self

        class Hook(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses its connection

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if sinks.webhook_delay:
                    time.sleep(sinks.webhook_delay)
                delivery = self.headers.get("X-Mapapp-Delivery", "?")
                with sinks.lock:
                    sinks.webhooks[delivery] += 1
                    sinks.bodies[delivery] = body
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", self._webhook_port), Hook)
        self.http.daemon_threads = True
        self._webhook_port = self.http.server_address[1]
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def start(self) -> "Sinks":
        self.start_smtp()
        self.start_webhook()
        return self

    @property
    def smtp_port(self) -> int:
        return self._smtp_port

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self._webhook_port}/hook"

    def received(self) -> int:
        with self.lock:
            return sum(self.emails.values()) + sum(self.webhooks.values())

    def duplicates(self) -> list[str]:
        with self.lock:
            return [k for counter in (self.emails, self.webhooks) for k, n in counter.items() if n > 1]

    def stop(self) -> None:
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        if self.http is not None:
            self.http.shutdown()
            self.http.server_close()
            self.http = None
