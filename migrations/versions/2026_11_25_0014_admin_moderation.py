"""admin desk and moderation: hidden reports and photos, photos held for approval, edited descriptions,
department names as data, password-reset tokens

Revision ID: 0014
Revises: 0013b
Create Date: 2026-11-25 16:00:00

What the public may see is written once in mapapp/core/visibility.py; these columns are what it reads.
A photo is held when its category asked for approval (`categories.photo_approval_since`) at the time it
was stored, so switching the setting on does not pull photos that were public already.

Tile clusters leave hidden reports out too. The tile triggers (0011, and any later migration that
replaces their function with other cell levels) count every report; a second trigger here takes the
hidden ones back out: -1 for a report as it becomes hidden, +1 as it is shown again, and it undoes the
first trigger's moves of a report that stays hidden. The two are sums, so their order does not matter,
and this one never needs to change when the counting function does. The cell grid is 0011's; the
levels are the application's (mapapp.tiles.models.LEVELS), so they follow the tiles' own migrations.
"""

# ruff: noqa: S608 - the SQL here is put together from constants; no value comes from outside

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from mapapp.core.visibility import report_public_sql
from mapapp.tiles.models import LEVELS

revision: str = "0014"
down_revision: str | None = "0013b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


HALF = 20037508.342789244  # half the Web Mercator world, metres: 0011's cell grid


def _cells_delta(source: str) -> str:
    """Add the signed rows of `source`(layer_id, category_id, status, geom, sign) to the cells of every level;
    cells that fall to zero are removed. The grid is 0011's, the levels the application's."""
    levels = ", ".join(f"({lv})" for lv in LEVELS)
    return f"""
        INSERT INTO tile_cells AS t (level, x, y, layer_id, category_id, status, n, sum_x, sum_y)
        SELECT c.* FROM (
            SELECT lv.level::smallint,
                   LEAST(GREATEST(floor((p.mx + {HALF}) / ({2 * HALF} / 2 ^ lv.level)), 0), 2 ^ lv.level - 1)::int,
                   LEAST(GREATEST(floor(({HALF} - p.my) / ({2 * HALF} / 2 ^ lv.level)), 0), 2 ^ lv.level - 1)::int,
                   p.layer_id, p.category_id, p.status,
                   sum(p.sign)::int AS n, sum(p.sign * p.mx) AS sum_x, sum(p.sign * p.my) AS sum_y
            FROM (SELECT d.layer_id, d.category_id, d.status, d.sign,
                         ST_X(ST_Transform(d.geom, 3857)) AS mx, ST_Y(ST_Transform(d.geom, 3857)) AS my
                  FROM ({source}) d) p
            CROSS JOIN (VALUES {levels}) lv(level)
            GROUP BY 1, 2, 3, 4, 5, 6
        ) c
        WHERE c.n <> 0
        ORDER BY 1, 2, 3, 4, 5, 6  -- the tile triggers' lock order: no deadlock between two statements
        ON CONFLICT (level, x, y, layer_id, category_id, status) DO UPDATE
        SET n = t.n + EXCLUDED.n, sum_x = t.sum_x + EXCLUDED.sum_x, sum_y = t.sum_y + EXCLUDED.sum_y;
        DELETE FROM tile_cells WHERE n = 0;
    """


def _hidden(alias: str) -> str:
    return f"NOT {report_public_sql(alias)}"


# A hidden report counts -1 wherever the counting trigger counts it +1: so it counts nothing.
FUNCTION = f"""
CREATE FUNCTION tile_cells_leave_out_hidden() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_cells_delta(f"SELECT layer_id, category_id, status, geom, -1 AS sign FROM new_rows n WHERE {_hidden('n')}")}
    ELSIF TG_OP = 'DELETE' THEN
        {_cells_delta(f"SELECT layer_id, category_id, status, geom, 1 AS sign FROM old_rows o WHERE {_hidden('o')}")}
    ELSIF TG_OP = 'UPDATE' THEN
        {
    _cells_delta(
        f"SELECT layer_id, category_id, status, geom, 1 AS sign FROM old_rows o WHERE {_hidden('o')}"
        f" UNION ALL SELECT layer_id, category_id, status, geom, -1 FROM new_rows n WHERE {_hidden('n')}"
    )
}
    END IF;
    RETURN NULL;
END
$fn$;
"""
TRIGGERS = (
    "CREATE TRIGGER tile_cells_hidden_insert AFTER INSERT ON reports REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_leave_out_hidden()",
    "CREATE TRIGGER tile_cells_hidden_update AFTER UPDATE ON reports"
    " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_leave_out_hidden()",
    "CREATE TRIGGER tile_cells_hidden_delete AFTER DELETE ON reports REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_leave_out_hidden()",
)


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
    # The media server asks, for every file, whether a hidden photo names it: only hidden rows are indexed.
    op.create_index(
        "ix_photos_hidden_keys",
        "photos",
        ["display_key", "thumb_key"],
        postgresql_where=sa.text("hidden_at IS NOT NULL"),
    )
    # ... and whether another photo that is not hidden has the same bytes (one file for both).
    op.create_index("ix_photos_display_key", "photos", ["display_key"])
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
    op.execute(FUNCTION)
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for name in ("tile_cells_hidden_insert", "tile_cells_hidden_update", "tile_cells_hidden_delete"):
        op.execute(f"DROP TRIGGER {name} ON reports")
    op.execute("DROP FUNCTION tile_cells_leave_out_hidden()")
    # Hidden reports are counted again, as the tile triggers count every report.
    op.execute(
        _cells_delta("SELECT layer_id, category_id, status, geom, 1 AS sign FROM reports r WHERE hidden_at IS NOT NULL")
    )
    op.drop_index("ix_password_resets_user", table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_table("departments")
    op.drop_index("ix_photos_display_key", table_name="photos")
    op.drop_index("ix_photos_hidden_keys", table_name="photos")
    op.drop_index("ix_reports_hidden", table_name="reports")
    op.drop_column("categories", "photo_approval_since")
    for column in ("approved_by", "approved_at", "hidden_reason", "hidden_at"):
        op.drop_column("photos", column)
    for column in ("original_description", "hidden_reason", "hidden_at"):
        op.drop_column("reports", column)
