"""Channels, the messages they deliver with what was read from them, triage decisions, and the gazetteer."""

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base
from mapapp.core.status import in_sql

# A channel's kind is the report channel its messages are filed under (reports.channel).
CHANNEL_KINDS = ("social", "phone", "api")
OUTCOMES = ("routed", "triage", "no_problem")
# How the message was located: a platform geotag or photo GPS is a point; the rest name an area or a landmark.
PRECISIONS = ("geotag", "photo", "landmark", "dong", "district", "none")


class Channel(Base):
    """A door for messages (twitter, kakao, call_centre…): its API key's hash and how replies go back."""

    __tablename__ = "intake_channels"
    __table_args__ = (
        CheckConstraint(in_sql("kind", CHANNEL_KINDS), name="kind"),
        UniqueConstraint("name"),
        UniqueConstraint("key_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64))
    # Posts on a public timeline are public anyway: then the author's handle may be shown with the report.
    public_handles: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    reply_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IntakeMessage(Base):
    """One message as delivered, and what the classifier and locator made of it."""

    __tablename__ = "intake_messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        CheckConstraint(in_sql("outcome", OUTCOMES), name="outcome"),
        CheckConstraint(in_sql("precision", PRECISIONS), name="precision"),
        Index("ix_intake_messages_report", "report_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("intake_channels.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    account: Mapped[str] = mapped_column(Text, default="", server_default="")
    author_handle: Mapped[str] = mapped_column(Text, default="", server_default="")
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(8))
    geotag = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    # Links the connector sent beside (or instead of) the photo bytes: kept, never fetched by us.
    media_urls: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    layer: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    candidates: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    places: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    precision: Mapped[str] = mapped_column(String(16))


class IntakeDecision(Base):
    """What a person decided for a message the machine was unsure of: kept, and exported as a labelled example."""

    __tablename__ = "intake_decisions"
    __table_args__ = (Index("ix_intake_decisions_message", "message_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("intake_messages.id", ondelete="CASCADE"))
    category: Mapped[str | None] = mapped_column(String(64))  # None: not a problem to fix
    district_code: Mapped[str | None] = mapped_column(String(32))
    dong_code: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GazetteerPlace(Base):
    """A landmark, station or road a message may name, with its aliases and its point or area."""

    __tablename__ = "gazetteer_places"
    __table_args__ = (UniqueConstraint("name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
