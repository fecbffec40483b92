"""The shapes of /healthz and /readyz, as /docs shows them."""

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["ok"]


class OutboxBacklog(BaseModel):
    pending: int
    oldest_pending_age_seconds: float | None
    failing: int  # pending messages whose last attempt failed


class ReplicaLag(BaseModel):
    status: Literal["ok", "lagging", "unreachable"]
    lag_seconds: float | None
    max_lag_seconds: float
    used_for_reads: bool


class Readiness(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    outbox: OutboxBacklog
    replica: ReplicaLag | None = None  # only when MAPAPP_READ_DATABASE_URL is set
