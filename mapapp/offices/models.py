"""Offices: a department of the city or of a district office, owning one jurisdiction's reports."""

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
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
