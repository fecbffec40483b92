"""alert subscriptions: a citizen's e-mail alerts of new reports in a district or around a point; an
index for the feeds' resolved reports

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 16:00:00

A subscription is an address, an area (a district, or a point and a radius) and optionally a layer or
a category. It waits unconfirmed until the link in its confirmation e-mail is used (only the link's
hash is stored), then the worker mails what is new since `last_report_id`, a digest when several
arrive together. Unsubscribing keeps the row with `unsubscribed_at` set.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_subscriptions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("locale", sa.String(8), nullable=False),
        sa.Column("district_id", sa.Integer, sa.ForeignKey("jurisdictions.id"), nullable=True),
        sa.Column("center", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("radius_m", sa.Float, nullable=True),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("layers.id"), nullable=True),
        sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id"), nullable=True),
        sa.Column("confirm_token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True)),
        sa.Column("last_report_id", sa.BigInteger, server_default="0", nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "(district_id IS NOT NULL AND center IS NULL) OR "
            "(district_id IS NULL AND center IS NOT NULL AND radius_m > 0)",
            name="ck_alert_subscriptions_area",
        ),
        sa.UniqueConstraint("confirm_token_hash", name="uq_alert_subscriptions_confirm_token_hash"),
    )
    op.create_index(
        "ix_alert_subscriptions_active",
        "alert_subscriptions",
        ["id"],
        postgresql_where=sa.text("confirmed_at IS NOT NULL AND unsubscribed_at IS NULL"),
    )
    op.create_index("ix_alert_subscriptions_email", "alert_subscriptions", ["email"])
    # The feeds' "resolved" entries, newest first, without sorting every resolved report.
    op.create_index(
        "ix_reports_resolved_at", "reports", ["resolved_at"], postgresql_where=sa.text("resolved_at IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_reports_resolved_at", table_name="reports")
    op.drop_index("ix_alert_subscriptions_email", table_name="alert_subscriptions")
    op.drop_index("ix_alert_subscriptions_active", table_name="alert_subscriptions")
    op.drop_table("alert_subscriptions")
