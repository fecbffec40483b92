"""admin desk and moderation: hidden reports and photos, photos held for approval, edited descriptions,
department names as data, password-reset tokens

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-25 16:00:00

What the public may see is written once in mapapp/core/visibility.py; these columns are what it reads.
A photo is held when its category asked for approval (`categories.photo_approval_since`) at the time it
was stored, so switching the setting on does not pull photos that were public already.

The tile triggers of 0011 count hidden reports no more: their function is rebuilt from 0011's own
pieces with the visibility rule added, so a cluster never counts a report that no point shows.
"""

# ruff: noqa: S608 - the SQL here is put together from constants; no value comes from outside

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

from mapapp.core.visibility import report_public_sql

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tiles() -> ModuleType:
    """Migration 0011, whose SQL builders the tile function is made from."""
    path = next(Path(__file__).parent.glob("*_0011_tiles_aggregates.py"))
    spec = importlib.util.spec_from_file_location("mapapp_migration_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _visible_cells_function(m: ModuleType) -> str:
    """0011's tile function, where only public reports are counted and a report hidden or shown moves counts."""
    old, new = report_public_sql("o"), report_public_sql("n")
    moved = f"({m._MOVED}) OR {old} IS DISTINCT FROM {new}"
    changed = f"({m._CHANGED}) OR {old} IS DISTINCT FROM {new}"
    delta = f"""
    SELECT o.layer_id, o.category_id, o.status, o.geom, -1 AS sign
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({moved}) AND {old}
    UNION ALL
    SELECT n.layer_id, n.category_id, n.status, n.geom, 1
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({moved}) AND {new}"""
    changed_rows = f"""
    SELECT o.layer_id, o.category_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed}
    UNION ALL
    SELECT n.layer_id, n.category_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {changed}"""
    return f"""
CREATE OR REPLACE FUNCTION tile_cells_on_reports() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {m._apply(f"SELECT layer_id, category_id, status, geom, 1 AS sign FROM new_rows n WHERE {new}")}
        {m._bump("SELECT layer_id, category_id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {m._apply(f"SELECT layer_id, category_id, status, geom, -1 AS sign FROM old_rows o WHERE {old}")}
        {m._bump("SELECT layer_id, category_id FROM old_rows")}
    ELSIF TG_OP = 'UPDATE' THEN
        {m._apply(delta)}
        {m._bump(changed_rows)}
    ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tile_cells;
        UPDATE tile_layer_versions SET version = nextval('tile_version_seq');
    END IF;
    RETURN NULL;
END
$fn$;
"""


def upgrade() -> None:
    op.add_column("reports", sa.Column("hidden_at", sa.DateTime(timezone=True)))
    op.add_column("reports", sa.Column("hidden_reason", sa.Text()))
    # The citizen's own words, kept privately once staff edit the public description.
    op.add_column("reports", sa.Column("original_description", sa.Text()))
    op.add_column("photos", sa.Column("hidden_at", sa.DateTime(timezone=True)))
    op.add_column("photos", sa.Column("hidden_reason", sa.Text()))
    op.add_column("photos", sa.Column("approved_at", sa.DateTime(timezone=True)))
    op.add_column("photos", sa.Column("approved_by", sa.Text()))
    op.add_column("categories", sa.Column("photo_approval_since", sa.DateTime(timezone=True)))
    # Few rows, read by staff: a partial index finds what waits for a moderator.
    op.create_index("ix_reports_hidden", "reports", ["id"], postgresql_where=sa.text("hidden_at IS NOT NULL"))
    op.create_table(
        "departments",
        sa.Column("slug", sa.String(64), primary_key=True),
        sa.Column("name_ko", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=False),
    )
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_password_resets_user", "password_resets", ["user_id"])
    op.execute(_visible_cells_function(_tiles()))


def downgrade() -> None:
    tiles = _tiles()
    # Hidden reports are counted again, as 0011 counts every report.
    op.execute(
        tiles._apply("SELECT layer_id, category_id, status, geom, 1 AS sign FROM reports WHERE hidden_at IS NOT NULL")
    )
    op.execute(tiles.FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    op.drop_index("ix_password_resets_user", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_table("departments")
    op.drop_index("ix_reports_hidden", table_name="reports")
    op.drop_column("categories", "photo_approval_since")
    for column in ("approved_by", "approved_at", "hidden_reason", "hidden_at"):
        op.drop_column("photos", column)
    for column in ("original_description", "hidden_reason", "hidden_at"):
        op.drop_column("reports", column)
