"""Putting messages in the outbox (in the caller's transaction) and delivering the due ones."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mapapp.core.settings import get_settings
from mapapp.notify.models import OutboxMessage
from mapapp.notify.senders import DeliveryFailed, NetworkSender, Sender

MAX_BACKOFF = timedelta(hours=1)


def enqueue_email(session: Session, *, to: str, subject: str, body: str) -> None:
    """An e-mail to send once the transaction commits."""
    session.add(OutboxMessage(channel="email", recipient=to, subject=subject, body=body, payload={}))


def enqueue_webhook(session: Session, *, url: str, event: str, data: dict[str, Any]) -> None:
    """A webhook POST to send once the transaction commits."""
    session.add(OutboxMessage(channel="webhook", recipient=url, payload={"event": event, "data": data}))


def backoff(attempts: int) -> timedelta:
    """Exponential, capped: a relay that is down for a day is retried every hour, never given up on."""
    base = get_settings().notify_retry_base_seconds
    return min(timedelta(seconds=base * 2 ** min(attempts - 1, 20)), MAX_BACKOFF)


def deliver_due(session: Session, *, sender: Sender | None = None, limit: int = 50) -> tuple[int, int]:
    """Try the messages that are due; returns (sent, failed). Workers in parallel skip each other's rows."""
    sender = sender or NetworkSender()
    now = datetime.now(UTC)
    due = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = failed = 0
    for message in due:
        message.attempts += 1
        try:
            sender.send(
                channel=message.channel,
                recipient=message.recipient,
                subject=message.subject,
                body=message.body,
                payload=message.payload,
            )
        except DeliveryFailed as exc:
            message.last_error = str(exc)[:500]
            message.next_attempt_at = now + backoff(message.attempts)
            failed += 1
        else:
            message.status, message.sent_at, message.last_error = "sent", now, None
            sent += 1
    session.flush()
    return sent, failed
