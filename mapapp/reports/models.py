"""Reports, their routing decisions and their timeline of events."""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base
from mapapp.core.status import AWAITING_OFFICE, STATUSES, in_sql, is_sql, open_sql

CLOSE_REASONS = ("duplicate", "not_ours", "cannot_fix")
CHANNELS = ("web", "api", "open311", "social", "phone", "demo")
LOCATION_SOURCES = ("pin", "photo", "address")
# How precisely the point is known: the citizen's pin or photo GPS, or a named area's representative point.
LOCATION_PRECISIONS = ("point", "dong", "district", "geocoder", "landmark", "city")


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(in_sql("status", STATUSES), name="status"),
        CheckConstraint("close_reason IS NULL OR " + in_sql("close_reason", CLOSE_REASONS), name="close_reason"),
        CheckConstraint(in_sql("channel", CHANNELS), name="channel"),
        CheckConstraint(in_sql("location_source", LOCATION_SOURCES), name="location_source"),
        CheckConstraint(in_sql("location_precision", LOCATION_PRECISIONS), name="location_precision"),
        Index("ix_reports_geom", "geom", postgresql_using="gist"),
        Index("ix_reports_office_status", "office_id", "status"),
        Index("ix_reports_category_status", "category_id", "status"),
        Index("ix_reports_created_at", "created_at"),
        Index("ix_reports_district", "district_id"),
        Index("ix_reports_dong", "dong_id"),
        Index("ix_reports_awaiting_office", "id", postgresql_where=in_sql("status", AWAITING_OFFICE)),
        Index("ix_reports_hidden", "id", postgresql_where=text("hidden_at IS NOT NULL")),
        # The office desk's queue (migration 0013): each sort of the open work list walks its own index.
        Index("ix_reports_office_created", "office_id", "created_at"),
        Index("ix_reports_office_open_created", "office_id", "created_at", postgresql_where=open_sql("status")),
        Index("ix_reports_office_due", "office_id", "due_at"),
        Index("ix_reports_office_open_due", "office_id", "due_at", postgresql_where=open_sql("status")),
        Index("ix_reports_office_open_supporters", "office_id", "support_count", postgresql_where=open_sql("status")),
        Index("ix_reports_triage", "created_at", postgresql_where=is_sql("status", "triage")),
        Index(
            "ix_reports_description_trgm",
            "description",
            postgresql_using="gin",
            postgresql_ops={"description": "gin_trgm_ops"},
        ),
        # The feeds' "resolved" entries, newest first (issue 12).
        Index("ix_reports_resolved_at", "resolved_at", postgresql_where="resolved_at IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"))
    geom = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=False)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    close_reason: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    location_source: Mapped[str] = mapped_column(String(8), default="pin")
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    dong_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    # The address the citizen typed, as typed (public: it describes the place, not the person).
    address: Mapped[str | None] = mapped_column(Text)
    location_precision: Mapped[str] = mapped_column(String(16), default="point", server_default="point")
    routing_rule: Mapped[str] = mapped_column(Text, default="")
    routing_manual: Mapped[bool] = mapped_column(Boolean, default=False)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    # A link to media elsewhere that an Open311 client sent (never fetched by us).
    media_url: Mapped[str | None] = mapped_column(Text)
    # Set when the photo's GPS disagrees with the pin: staff should look (private).
    location_flag: Mapped[str | None] = mapped_column(Text)
    # Private: never in a public response.
    reporter_email: Mapped[str | None] = mapped_column(Text)
    reporter_phone: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the secret in the reporter's newest reopen link (the link itself is only in the e-mail).
    reopen_token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The office's staff member working on it (set by the desk's "assign", cleared by a transfer).
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # created_at plus the category's response target, kept by a trigger (migration 0013): "overdue" reads it.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=FetchedValue())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When routing last looked at this report: a district whose polygon changed after it is checked again.
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Moderation (mapapp.moderation; the public rule is mapapp.core.visibility): private reason and original text.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    original_description: Mapped[str | None] = mapped_column(Text)


class IdempotencyKey(Base):
    """A client's retry key: the same key and body return the same report, never a second one."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Supporter(Base):
    """One "me too" per person and report; the person is a hash of a browser token or a contact."""

    __tablename__ = "report_supporters"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    supporter_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RoutingDecisionRecord(Base):
    """Why a report went where it did: every automatic or manual routing, kept."""

    __tablename__ = "routing_decisions"
    __table_args__ = (Index("ix_routing_decisions_report", "report_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    city_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    method: Mapped[str] = mapped_column(String(24))
    rule: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str] = mapped_column(String(48))
    reason_params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by: Mapped[str] = mapped_column(Text, default="system")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReportEvent(Base):
    """One entry of a report's timeline; the public part is shown to everyone."""

    __tablename__ = "report_events"
    __table_args__ = (Index("ix_report_events_report", "report_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(Text, default="system")
    public_note: Mapped[str] = mapped_column(Text, default="")
    private_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
