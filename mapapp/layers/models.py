"""Layers and their categories, synchronised from the files in layers/."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base
from mapapp.layers.state import effective_state


class Layer(Base):
    __tablename__ = "layers"
    __table_args__ = (
        CheckConstraint("kind IN ('everyday', 'disaster')", name="kind"),
        CheckConstraint("state IN ('active', 'inactive', 'archived')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_ko: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    style: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    banner_ko: Mapped[str | None] = mapped_column(Text)
    banner_en: Mapped[str | None] = mapped_column(Text)
    active_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    source_file: Mapped[str] = mapped_column(Text, default="")
    # Hashtags that put a channel message on this (disaster) layer while it is active, e.g. '#침수'.
    hashtags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")

    @property
    def effective_state(self) -> str:
        """The state that counts now: an active layer past its end time is inactive."""
        return effective_state(self.state, self.active_until)


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (CheckConstraint("level IN ('city', 'district')", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Globally unique: it is also the Open311 service_code.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id"))
    name_ko: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(64))
    response_hours: Mapped[int] = mapped_column(Integer)
    color: Mapped[str] = mapped_column(String(16))
    icon: Mapped[str] = mapped_column(String(64))
    nearby_radius_m: Mapped[int] = mapped_column(Integer, default=50)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    also_on: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    # Categories dropped from the files are retired, not deleted: old reports still point at them.
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    # Words, phrases and hashtags that name this category in channel messages: {"ko": [], "en": [], "hashtags": []}.
    keywords: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # Citizens' photos stored since then wait for a moderator's approval (`hold_photos: true` in the file).
    photo_approval_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Department(Base):
    """A department's name in words (the `departments:` of the layer files), for every staff page."""

    __tablename__ = "departments"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_ko: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)


class LayerEvent(Base):
    """Activation and deactivation of a layer: who, when, and the banner shown."""

    __tablename__ = "layer_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
