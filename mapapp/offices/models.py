"""Offices: a department of the city or of a district office, owning one jurisdiction's reports."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base


class Office(Base):
    __tablename__ = "offices"
    __table_args__ = (UniqueConstraint("jurisdiction_id", "department", name="uq_offices_jurisdiction_department"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id"))
    department: Mapped[str] = mapped_column(String(64))
    name_ko: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ReportNote(Base):
    """An office's internal note on a report: in its own table, so no public read can select it."""

    __tablename__ = "report_notes"
    __table_args__ = (Index("ix_report_notes_report", "report_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OfficeStatusCount(Base):
    """Reports per office and status, kept by triggers on reports (migration 0013): the desk's counts line."""

    __tablename__ = "office_status_counts"

    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    reports: Mapped[int] = mapped_column(BigInteger)
