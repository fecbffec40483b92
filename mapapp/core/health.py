"""The shapes of /healthz and /readyz, as /docs shows them."""

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]


class OutboxBacklog(BaseModel):
    pending: int
    oldest_pending_age_seconds: float | None
    failing: int  # pending messages whose last attempt failed


class Readiness(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    outbox: OutboxBacklog
