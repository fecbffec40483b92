"""Putting messages in the outbox (in the caller's transaction), claiming due ones and recording each delivery.

A worker claims a few due messages in one short committed statement (`FOR UPDATE SKIP LOCKED`, so
workers side by side never take the same row), which moves their `next_attempt_at` to the end of a
lease. It then sends them one by one and commits each outcome as soon as the peer has answered. A
worker that dies re-sends at most the message in flight; the rest of its claim is tried again when the
lease ends. The lease end is also the claim's token: only its holder may release the claim early.
Each function below is one statement, committed at once: on the worker's autocommit connections, one
round trip per delivery.
"""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from mapapp.core.settings import get_settings
from mapapp.notify.models import OutboxMessage
from mapapp.notify.senders import DeliveryFailed, Outgoing, Sender

MAX_BACKOFF = timedelta(hours=1)


def enqueue_email(session: Session, *, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
    """An e-mail to send once the transaction commits; `headers` are added as they are (List-Unsubscribe)."""
    payload: dict[str, Any] = {"headers": headers} if headers else {}
    session.add(OutboxMessage(channel="email", recipient=to, subject=subject, body=body, payload=payload))


def enqueue_webhook(session: Session, *, url: str, event: str, data: dict[str, Any]) -> None:
    """A webhook POST to send once the transaction commits."""
    session.add(OutboxMessage(channel="webhook", recipient=url, payload={"event": event, "data": data}))


def backoff(attempts: int) -> timedelta:
    """Exponential, capped: a relay that is down for a day is retried every hour, never given up on."""
    base = get_settings().notify_retry_base_seconds
    return min(timedelta(seconds=base * 2 ** min(attempts - 1, 20)), MAX_BACKOFF)


@dataclass(frozen=True)
class Claimed:
    """A message this worker holds until `lease_until`, with the attempt number it is on."""

    message: Outgoing
    attempts: int
    lease_until: datetime


@dataclass(frozen=True)
class Outcome:
    """What happened to one claimed message; recorded as soon as it is known."""

    claimed: Claimed
    error: str | None = None  # None: the peer took it


@dataclass(frozen=True)
class Backlog:
    """The pending messages and how long the oldest has waited."""

    pending: int
    oldest_age_seconds: float | None
    failing: int  # pending messages whose last attempt failed

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of /readyz."""
        age = None if self.oldest_age_seconds is None else round(self.oldest_age_seconds, 1)
        return {"pending": self.pending, "oldest_pending_age_seconds": age, "failing": self.failing}

    def line(self) -> str:
        """One line for an operator."""
        age = "-" if self.oldest_age_seconds is None else f"{self.oldest_age_seconds:.0f} s"
        return f"outbox: {self.pending} pending, oldest {age}, {self.failing} failing"


_CLAIM = text(
    """
    UPDATE outbox o
       SET attempts = o.attempts + 1,
           next_attempt_at = clock_timestamp() + make_interval(secs => :lease)
      FROM (SELECT id FROM outbox
             WHERE status = 'pending' AND next_attempt_at <= now()
             ORDER BY next_attempt_at, id
             LIMIT :limit
             FOR UPDATE SKIP LOCKED) due
     WHERE o.id = due.id
 RETURNING o.id, o.channel, o.recipient, o.subject, o.body, o.payload, o.attempts, o.next_attempt_at
    """
)


def claim_due(conn: Connection, *, limit: int, lease_seconds: float) -> list[Claimed]:
    """Take up to `limit` due messages for `lease_seconds`, committed; rows other workers hold are skipped."""
    rows = conn.execute(_CLAIM, {"limit": limit, "lease": lease_seconds}).all()
    conn.commit()
    return [
        Claimed(
            message=Outgoing(
                id=row.id,
                channel=row.channel,
                recipient=row.recipient,
                subject=row.subject,
                body=row.body,
                payload=row.payload,
            ),
            attempts=row.attempts,
            lease_until=row.next_attempt_at,
        )
        for row in sorted(rows, key=lambda r: r.id)
    ]


def deliver(sender: Sender, claimed: Claimed) -> Outcome:
    """Send one claimed message; a refusal becomes an outcome, never an exception."""
    try:
        sender.send(claimed.message)
    except DeliveryFailed as exc:
        return Outcome(claimed, error=str(exc)[:500])
    return Outcome(claimed)


def record(conn: Connection, outcome: Outcome) -> None:
    """Commit one outcome: sent, or pending again after a backoff (only while the claim is still ours)."""
    if outcome.error is None:
        conn.execute(
            text("UPDATE outbox SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = :id"),
            {"id": outcome.claimed.message.id},
        )
    else:
        conn.execute(
            text(
                "UPDATE outbox SET last_error = :error, next_attempt_at = now() + make_interval(secs => :wait) "
                "WHERE id = :id AND status = 'pending' AND next_attempt_at = :lease"
            ),
            {
                "id": outcome.claimed.message.id,
                "error": outcome.error,
                "wait": backoff(outcome.claimed.attempts).total_seconds(),
                "lease": outcome.claimed.lease_until,
            },
        )
    conn.commit()


def release(conn: Connection, claims: list[Claimed]) -> None:
    """Give back claimed messages that were not sent (stopping, or the database went away mid-claim)."""
    if not claims:
        return
    # The lease end is the token: a claim that expired and was taken by another worker is not touched.
    conn.execute(
        text(
            "UPDATE outbox o SET attempts = o.attempts - 1, next_attempt_at = now() "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:leases AS timestamptz[])) AS mine(id, lease) "
            "WHERE o.id = mine.id AND o.status = 'pending' AND o.next_attempt_at = mine.lease"
        ),
        {"ids": [c.message.id for c in claims], "leases": [c.lease_until for c in claims]},
    )
    conn.commit()


def backlog(conn: Connection) -> Backlog:
    """How many messages wait, the age of the oldest, and how many of them failed their last attempt."""
    row = conn.execute(
        text(
            "SELECT count(*) AS pending, extract(epoch FROM now() - min(created_at)) AS age, "
            "count(*) FILTER (WHERE last_error IS NOT NULL) AS failing "
            "FROM outbox WHERE status = 'pending'"
        )
    ).one()
    return Backlog(
        pending=row.pending, oldest_age_seconds=None if row.age is None else float(row.age), failing=row.failing
    )


@dataclass
class Round:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    last_error: str | None = None


def deliver_due(conn: Connection, *, sender: Sender, limit: int | None = None) -> Round:
    """Claim and deliver until nothing new is due, committing each outcome as it happens (`mapapp worker --once`)."""
    settings = get_settings()
    done = Round()
    tried: set[int] = set()
    while True:
        claims = claim_due(
            conn, limit=limit or settings.notify_claim_size, lease_seconds=settings.notify_claim_lease_seconds
        )
        again = [c for c in claims if c.message.id in tried]
        if again:  # failed earlier in this pass and due again already (no backoff): that is for the next pass
            release(conn, again)
        claims = [c for c in claims if c.message.id not in tried]
        if not claims:
            return done
        for position, claimed in enumerate(claims):
            tried.add(claimed.message.id)
            try:
                outcome = deliver(sender, claimed)
                record(conn, outcome)
            except BaseException:
                conn.rollback()
                with suppress(Exception):  # the database may be gone: then the lease frees them later
                    release(conn, claims[position + 1 :])
                raise
            if outcome.error is None:
                done.sent += 1
            else:
                done.failed, done.last_error = done.failed + 1, outcome.error
