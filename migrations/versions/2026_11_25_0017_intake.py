"""channel intake: channels with API keys, messages with what the machine read from them, triage decisions,
the gazetteer, keywords and hashtags from the layer files, and the precisions a message can be located with

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25 16:00:00

A message is kept once per (channel, external id): a repeated delivery finds it. What the classifier and
the locator found (confidence, evidence, candidates, places, precision) is kept beside it for staff.
A report located from a named landmark has precision 'landmark'; one that names no place at all waits in
triage at the city's representative point with precision 'city', never passed off as an exact point.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PRECISIONS = "location_precision IN ('point', 'dong', 'district', 'geocoder')"
NEW_PRECISIONS = "location_precision IN ('point', 'dong', 'district', 'geocoder', 'landmark', 'city')"


def upgrade() -> None:
    op.create_table(
        "intake_channels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("public_handles", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reply_url", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('social', 'phone', 'api')", name=op.f("ck_intake_channels_kind")),
        sa.UniqueConstraint("name", name=op.f("uq_intake_channels_name")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_intake_channels_key_hash")),
    )
    op.create_table(
        "intake_messages",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("channel_id", sa.Integer, sa.ForeignKey("intake_channels.id"), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("account", sa.Text, nullable=False, server_default=""),
        sa.Column("author_handle", sa.Text, nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("geotag", Geometry("POINT", srid=4326, spatial_index=False), nullable=True),
        sa.Column("media_urls", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="SET NULL"), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),
        sa.Column("layer", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("evidence", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("candidates", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("places", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("precision", sa.String(16), nullable=False),
        sa.UniqueConstraint("channel_id", "external_id", name=op.f("uq_intake_messages_channel_id")),
        sa.CheckConstraint("outcome IN ('routed', 'triage', 'no_problem')", name=op.f("ck_intake_messages_outcome")),
        sa.CheckConstraint(
            "precision IN ('geotag', 'photo', 'landmark', 'dong', 'district', 'none')",
            name=op.f("ck_intake_messages_precision"),
        ),
    )
    op.create_index("ix_intake_messages_report", "intake_messages", ["report_id"])
    op.create_table(
        "intake_decisions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("message_id", sa.BigInteger, sa.ForeignKey("intake_messages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("category", sa.String(64), nullable=True),  # None: not a problem to fix
        sa.Column("district_code", sa.String(32), nullable=True),
        sa.Column("dong_code", sa.String(32), nullable=True),
        sa.Column("decided_by", sa.Text, nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_intake_decisions_message", "intake_decisions", ["message_id"])
    op.create_table(
        "gazetteer_places",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("aliases", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("name", name=op.f("uq_gazetteer_places_name")),
    )
    op.add_column("layers", sa.Column("hashtags", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"))
    op.add_column("categories", sa.Column("keywords", postgresql.JSONB, nullable=False, server_default="{}"))
    op.drop_constraint(op.f("ck_reports_location_precision"), "reports", type_="check")
    op.create_check_constraint(op.f("ck_reports_location_precision"), "reports", NEW_PRECISIONS)


def downgrade() -> None:
    op.execute("UPDATE reports SET location_precision = 'district' WHERE location_precision IN ('landmark', 'city')")
    op.drop_constraint(op.f("ck_reports_location_precision"), "reports", type_="check")
    op.create_check_constraint(op.f("ck_reports_location_precision"), "reports", OLD_PRECISIONS)
    op.drop_column("categories", "keywords")
    op.drop_column("layers", "hashtags")
    op.drop_table("gazetteer_places")
    op.drop_index("ix_intake_decisions_message", table_name="intake_decisions")
    op.drop_table("intake_decisions")
    op.drop_index("ix_intake_messages_report", table_name="intake_messages")
    op.drop_table("intake_messages")
    op.drop_table("intake_channels")
