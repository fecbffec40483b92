"""How messages leave: SMTP for e-mail, signed HTTP POST for webhooks. Each raises on failure."""

import hashlib
import hmac
import json
import smtplib
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from mapapp.core.settings import get_settings


class DeliveryFailed(Exception):
    """The peer did not take the message; it stays in the outbox and is tried again later."""


class Sender(Protocol):
    def send(self, *, channel: str, recipient: str, subject: str, body: str, payload: dict[str, Any]) -> None:
        """Deliver one message or raise DeliveryFailed."""


def signature(secret: str, body: bytes) -> str:
    """The X-Mapapp-Signature header: HMAC-SHA256 of the exact body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class NetworkSender:
    """E-mail through the configured SMTP relay; webhooks by HTTP POST signed with the shared secret."""

    def send(self, *, channel: str, recipient: str, subject: str, body: str, payload: dict[str, Any]) -> None:
        settings = get_settings()
        try:
            if channel == "email":
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = settings.mail_from, recipient, subject
                message.set_content(body)
                with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                    smtp.send_message(message)
            else:
                data = json.dumps(payload, ensure_ascii=False).encode()
                response = httpx.post(
                    recipient,
                    content=data,
                    timeout=10,
                    headers={
                        "Content-Type": "application/json",
                        "X-Mapapp-Signature": signature(settings.webhook_secret, data),
                    },
                )
                if response.status_code >= 300:
                    raise DeliveryFailed(f"webhook answered {response.status_code}")
        except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
