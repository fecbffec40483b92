"""One row per rate-limit key: its GCRA "theoretical arrival time"."""

from datetime import datetime

from sqlalchemy import DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base


class RateLimitBucket(Base):
    """A key (limit name and hashed subject) and the time its bucket is empty again.

    UNLOGGED (see migration 0009): losing the rows in a crash only forgives some requests, and
    skipping the WAL makes every check cheaper.
    """

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_tat", "tat"), {"prefixes": ["UNLOGGED"]})

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    tat: Mapped[datetime] = mapped_column(DateTime(timezone=True))
