"""foundation: jurisdictions, offices, layers and categories, reports and their routing

Revision ID: 0001
Revises:
Create Date: 2026-11-24 23:32:59.850914
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The extension stays on downgrade: other schemas of the database may use it.
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "jurisdictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("geometry_source", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("level IN ('city', 'district', 'dong')", name=op.f("ck_jurisdictions_level")),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["jurisdictions.id"], name=op.f("fk_jurisdictions_parent_id_jurisdictions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdictions")),
        sa.UniqueConstraint("code", name=op.f("uq_jurisdictions_code")),
    )
    op.create_index("ix_jurisdictions_geom", "jurisdictions", ["geom"], unique=False, postgresql_using="gist")
    op.create_index("ix_jurisdictions_level", "jurisdictions", ["level"], unique=False)
    op.create_table(
        "reroute_runs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reroute_runs")),
    )
    op.create_table(
        "layers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("style", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("banner_ko", sa.Text(), nullable=True),
        sa.Column("banner_en", sa.Text(), nullable=True),
        sa.Column("active_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('everyday', 'disaster')", name=op.f("ck_layers_kind")),
        sa.CheckConstraint("state IN ('active', 'inactive', 'archived')", name=op.f("ck_layers_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_layers")),
        sa.UniqueConstraint("slug", name=op.f("uq_layers_slug")),
    )
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("response_hours", sa.Integer(), nullable=False),
        sa.Column("color", sa.String(length=16), nullable=False),
        sa.Column("icon", sa.String(length=64), nullable=False),
        sa.Column("nearby_radius_m", sa.Integer(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.CheckConstraint("level IN ('city', 'district')", name=op.f("ck_categories_level")),
        sa.ForeignKeyConstraint(["layer_id"], ["layers.id"], name=op.f("fk_categories_layer_id_layers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_table(
        "jurisdiction_parts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"],
            ["jurisdictions.id"],
            name=op.f("fk_jurisdiction_parts_jurisdiction_id_jurisdictions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdiction_parts")),
    )
    for level in ("city", "district", "dong"):
        op.create_index(
            f"ix_jurisdiction_parts_{level}_geom",
            "jurisdiction_parts",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_where=f"level = '{level}'",
        )
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("name_ko", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["jurisdiction_id"], ["jurisdictions.id"], name=op.f("fk_offices_jurisdiction_id_jurisdictions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offices")),
        sa.UniqueConstraint("jurisdiction_id", "department", name="uq_offices_jurisdiction_department"),
        sa.UniqueConstraint("slug", name=op.f("uq_offices_slug")),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("layer_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("close_reason", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("location_source", sa.String(length=8), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("routing_rule", sa.Text(), nullable=False),
        sa.Column("routing_manual", sa.Boolean(), nullable=False),
        sa.Column("support_count", sa.Integer(), nullable=False),
        sa.Column("reporter_email", sa.Text(), nullable=True),
        sa.Column("reporter_phone", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('web', 'api', 'open311', 'social', 'phone', 'demo')", name=op.f("ck_reports_channel")
        ),
        sa.CheckConstraint(
            "close_reason IS NULL OR close_reason IN ('duplicate', 'not_ours', 'cannot_fix')",
            name=op.f("ck_reports_close_reason"),
        ),
        sa.CheckConstraint("location_source IN ('pin', 'photo', 'address')", name=op.f("ck_reports_location_source")),
        sa.CheckConstraint(
            "status IN ('submitted', 'routed', 'triage', 'acknowledged', 'assigned', 'in_progress', 'resolved', 'closed', 'reopened')",
            name=op.f("ck_reports_status"),
        ),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_reports_category_id_categories")),
        sa.ForeignKeyConstraint(["city_id"], ["jurisdictions.id"], name=op.f("fk_reports_city_id_jurisdictions")),
        sa.ForeignKeyConstraint(
            ["district_id"], ["jurisdictions.id"], name=op.f("fk_reports_district_id_jurisdictions")
        ),
        sa.ForeignKeyConstraint(["layer_id"], ["layers.id"], name=op.f("fk_reports_layer_id_layers")),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_reports_office_id_offices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("public_id", name=op.f("uq_reports_public_id")),
    )
    op.create_index("ix_reports_category_status", "reports", ["category_id", "status"], unique=False)
    op.create_index("ix_reports_created_at", "reports", ["created_at"], unique=False)
    op.create_index("ix_reports_district", "reports", ["district_id"], unique=False)
    op.create_index(
        "ix_reports_awaiting_office",
        "reports",
        ["id"],
        unique=False,
        postgresql_where="status IN ('submitted', 'triage')",
    )
    op.create_index("ix_reports_geom", "reports", ["geom"], unique=False, postgresql_using="gist")
    op.create_index("ix_reports_office_status", "reports", ["office_id", "status"], unique=False)
    op.create_table(
        "report_events",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("public_note", sa.Text(), nullable=False),
        sa.Column("private_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_events_report_id_reports"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_events")),
    )
    op.create_index("ix_report_events_report", "report_events", ["report_id", "created_at"], unique=False)
    op.create_table(
        "routing_decisions",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("city_id", sa.Integer(), nullable=True),
        sa.Column("district_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.String(length=48), nullable=False),
        sa.Column("reason_params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["city_id"], ["jurisdictions.id"], name=op.f("fk_routing_decisions_city_id_jurisdictions")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"], ["jurisdictions.id"], name=op.f("fk_routing_decisions_district_id_jurisdictions")
        ),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_routing_decisions_office_id_offices")),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_routing_decisions_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_decisions")),
    )
    op.create_index("ix_routing_decisions_report", "routing_decisions", ["report_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_routing_decisions_report", table_name="routing_decisions")
    op.drop_table("routing_decisions")
    op.drop_index("ix_report_events_report", table_name="report_events")
    op.drop_table("report_events")
    op.drop_index("ix_reports_office_status", table_name="reports")
    op.drop_index("ix_reports_geom", table_name="reports", postgresql_using="gist")
    op.drop_index("ix_reports_created_at", table_name="reports")
    op.drop_index("ix_reports_district", table_name="reports")
    op.drop_index(
        "ix_reports_awaiting_office", table_name="reports", postgresql_where="status IN ('submitted', 'triage')"
    )
    op.drop_index("ix_reports_category_status", table_name="reports")
    op.drop_table("reports")
    op.drop_table("offices")
    for level in ("city", "district", "dong"):
        op.drop_index(f"ix_jurisdiction_parts_{level}_geom", table_name="jurisdiction_parts")
    op.drop_table("jurisdiction_parts")
    op.drop_table("categories")
    op.drop_table("layers")
    op.drop_table("reroute_runs")
    op.drop_index("ix_jurisdictions_level", table_name="jurisdictions")
    op.drop_index("ix_jurisdictions_geom", table_name="jurisdictions", postgresql_using="gist")
    op.drop_table("jurisdictions")
