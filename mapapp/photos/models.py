"""Photo rows: public image keys, and the original's GPS and time, which stay private."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        Index("ix_photos_report", "report_id", "position"),
        # GET /api/reports takes each report's first thumbnail from this index alone (migration 0013b).
        Index(
            "ix_photos_before_thumb",
            "report_id",
            "position",
            postgresql_include=["thumb_key"],
            postgresql_where=text("kind = 'before'"),
        ),
        Index("ix_photos_hidden_keys", "display_key", "thumb_key", postgresql_where=text("hidden_at IS NOT NULL")),
        Index("ix_photos_display_key", "display_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger)
    # 'before' photos come from the citizen; 'after' photos from the office when it resolves.
    kind: Mapped[str] = mapped_column(String(8), default="before")
    display_key: Mapped[str] = mapped_column(Text)
    thumb_key: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(32))
    original_bytes: Mapped[int] = mapped_column(Integer)
    original_sha256: Mapped[str] = mapped_column(String(64))
    # Private: never in a public response.
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    gps_alt: Mapped[float | None] = mapped_column(Float)
    gps_note: Mapped[str | None] = mapped_column(Text)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Moderation (mapapp.moderation; the public rule is mapapp.core.visibility).
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(Text)
