"""Jurisdictions: the city, its districts and finer units, each a MultiPolygon in EPSG:4326."""

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base

LEVELS = ("city", "district", "dong")


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'district', 'dong')", name="level"),
        Index("ix_jurisdictions_geom", "geom", postgresql_using="gist"),
        Index("ix_jurisdictions_level", "level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ko: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True)
    # The polygon as the last batch re-routing saw it, kept while the polygon has changed since:
    # only reports in what the district lost need routing again. NULL when unchanged.
    routed_geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=True)
    # 'derived' geometries are the union of the children, recomputed after each import of them.
    geometry_source: Mapped[str] = mapped_column(String(16), default="imported")
    source: Mapped[str] = mapped_column(Text, default="")
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JurisdictionPart(Base):
    """Jurisdictions cut by ST_Subdivide: small boxes make point-in-polygon lookups fast."""

    __tablename__ = "jurisdiction_parts"
    # One GiST index per level: a lookup at one level never wades through the parts of another.
    __table_args__ = tuple(
        Index(
            f"ix_jurisdiction_parts_{level}_geom",
            "geom",
            postgresql_using="gist",
            postgresql_where=f"level = '{level}'",
        )
        for level in LEVELS
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("jurisdictions.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    geom = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False)
