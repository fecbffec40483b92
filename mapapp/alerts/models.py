"""Alert subscriptions: an address, an area, optionally a layer or a category, and how far it has been told."""

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, DateTime, Float, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from mapapp.core.db import Base


class AlertSubscription(Base):
    __tablename__ = "alert_subscriptions"
    __table_args__ = (
        CheckConstraint(
            "(district_id IS NOT NULL AND center IS NULL) OR "
            "(district_id IS NULL AND center IS NOT NULL AND radius_m > 0)",
            name="area",
        ),
        Index(
            "ix_alert_subscriptions_active",
            "id",
            postgresql_where=text("confirmed_at IS NOT NULL AND unsubscribed_at IS NULL"),
        ),
        Index("ix_alert_subscriptions_email", "email"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("jurisdictions.id"))
    center = mapped_column(Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    radius_m: Mapped[float | None] = mapped_column(Float)
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("layers.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # SHA-256 of the secret in the confirmation link (the link itself is only in the e-mail).
    confirm_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The newest report already considered: the next alert tells only of reports after it.
    last_report_id: Mapped[int] = mapped_column(BigInteger, server_default="0")
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
