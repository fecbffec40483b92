"""How messages leave: SMTP for e-mail, signed HTTP POST for webhooks. Each raises on failure.

Every message carries a stable id derived from its outbox id, so that a receiver can drop the rare
duplicate (a worker that dies between the peer's "OK" and recording it sends that one message again):
e-mail has `Message-ID: <outbox-<id>.<hash>@<mail domain>>`, a webhook has the header
`X-Mapapp-Delivery: <id>` and `"delivery": <id>` in its JSON body.
"""

import hashlib
import hmac
import json
import smtplib
import time
from contextlib import suppress
from dataclasses import dataclass, field
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate
from typing import Any, Protocol

import httpx

from mapapp.core.settings import get_settings

# A kept SMTP connection idle longer than this is checked with NOOP before use (relays drop idle ones).
SMTP_IDLE_CHECK_SECONDS = 5.0
PEER_TIMEOUT_SECONDS = 10.0


class DeliveryFailed(Exception):
    """The peer did not take the message; it stays in the outbox and is tried again later."""


@dataclass(frozen=True)
class Outgoing:
    """One outbox message on its way out."""

    id: int
    channel: str
    recipient: str
    subject: str = ""
    body: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver one message or raise DeliveryFailed."""

    def close(self) -> None:
        """Close kept connections."""


def signature(secret: str, body: bytes) -> str:
    """The X-Mapapp-Signature header: HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def message_id(outbox_id: int) -> str:
    """The e-mail Message-ID of outbox message `outbox_id`: the same on every attempt, unique per installation."""
    settings = get_settings()
    digest = hmac.new(settings.secret_key.encode(), f"outbox-{outbox_id}".encode(), hashlib.sha256).hexdigest()
    domain = settings.mail_from.rpartition("@")[2] or "localhost"
    return f"<outbox-{outbox_id}.{digest[:16]}@{domain}>"


def email_bytes(message: Outgoing, *, sender: str) -> bytes:
    """The e-mail as sent: UTF-8 text, the subject RFC 2047-encoded when it is not ASCII, with its Message-ID."""
    # The compat32 MIMEText costs a seventh of EmailMessage's header registry: it sets the worker's pace.
    mail = MIMEText(message.body, "plain", "utf-8")
    mail["From"], mail["To"] = sender, message.recipient
    mail["Subject"] = message.subject if message.subject.isascii() else Header(message.subject, "utf-8")  # type: ignore[assignment]
    mail["Date"] = formatdate()
    mail["Message-ID"] = message_id(message.id)
    for name, value in (message.payload.get("headers") or {}).items():  # e.g. RFC 8058 one-click unsubscribe
        mail[name] = value
    # SMTP wants CRLF line ends, and smtplib leaves a bytes message as it is: with bare LFs a strict relay
    # sees one long line and refuses any message over 1,000 bytes.
    return mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))


def webhook_body(message: Outgoing) -> bytes:
    """The exact JSON a webhook receiver gets (and the signature covers): the event, its data, the delivery id."""
    return json.dumps({**message.payload, "delivery": message.id}, ensure_ascii=False).encode()


class NetworkSender:
    """E-mail through the configured SMTP relay; webhooks by HTTP POST signed with the shared secret.

    One SMTP connection and one HTTP client are kept between messages; one sender per thread.
    """

    def __init__(self) -> None:
        self._smtp: smtplib.SMTP | None = None
        self._smtp_used = 0.0
        self._http: httpx.Client | None = None

    def send(self, message: Outgoing) -> None:
        try:
            if message.channel == "email":
                self._send_email(message)
            else:
                self._post_webhook(message)
        except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
            self._drop_smtp()
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc

    def _send_email(self, message: Outgoing) -> None:
        sender = get_settings().mail_from
        self._relay().sendmail(sender, [message.recipient], email_bytes(message, sender=sender))
        self._smtp_used = time.monotonic()

    def _relay(self) -> smtplib.SMTP:
        if self._smtp is not None and time.monotonic() - self._smtp_used > SMTP_IDLE_CHECK_SECONDS:
            try:  # nothing has been sent on it for a while: a NOOP tells whether the relay still holds it
                code, _ = self._smtp.noop()
                if code != 250:
                    self._drop_smtp()
            except (OSError, smtplib.SMTPException):
                self._drop_smtp()
        if self._smtp is None:
            settings = get_settings()
            self._smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=PEER_TIMEOUT_SECONDS)
        return self._smtp

    def _drop_smtp(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def _post_webhook(self, message: Outgoing) -> None:
        settings = get_settings()
        if self._http is None:
            self._http = httpx.Client(timeout=PEER_TIMEOUT_SECONDS)
        data = webhook_body(message)
        response = self._http.post(
            message.recipient,
            content=data,
            headers={
                "Content-Type": "application/json",
                "X-Mapapp-Delivery": str(message.id),
                "X-Mapapp-Signature": signature(settings.webhook_secret, data),
            },
        )
        if response.status_code >= 300:
            raise DeliveryFailed(f"webhook answered {response.status_code}")

    def close(self) -> None:
        """Say QUIT to the relay and close the HTTP client."""
        if self._smtp is not None:
            with suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._drop_smtp()
        if self._http is not None:
            self._http.close()
            self._http = None
