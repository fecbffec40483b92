"""tile levels: a stored cell level for every zoom's cluster grid (16 down to 10), so a low-zoom tile reads
its own 4 x 4 cells instead of summing many finer ones

Revision ID: 0013b
Revises: 0019
Create Date: 2026-11-25 16:00:00

0011 stored levels 16/14/12/10 and drew the grid of level z + 3 at zoom z; z12 (grid 15) then summed
the 256 level-16 cells under the tile and all their category/status rows, the slow tail of the tile
benchmark. The map now draws the grid of level z + 2 (clusters 64 px apart, mapapp.tiles.models) and
clusters reach z14 (grid 16), so this stores every level from 16 to 10: each tile reads 16 cells.

Also for GET /api/reports: each feature's thumbnail is looked up per report; a partial index that carries the
thumbnail's key answers it from the index alone, instead of a heap page of photos per report (the slow part of
a page at a million reports, when those pages are not in memory).

The trigger function is the same as 0011's with the new levels (CREATE OR REPLACE keeps the triggers);
the added levels are filled from the reports already stored. Keep LEVELS in step with
mapapp.core.cells.LEVELS.
"""

# ruff: noqa: S608 - the SQL here is put together from this file's own constants; no value comes from outside

from collections.abc import Sequence

from alembic import op

revision: str = "0013b"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = (16, 15, 14, 13, 12, 11, 10)
OLD_LEVELS = (16, 14, 12, 10)  # 0011's
HALF = 20037508.342789244  # half the Web Mercator world, metres (ST_TileEnvelope's default bounds)


def _cells_select(source: str, levels: Sequence[int]) -> str:
    """(level, x, y, layer, category, status, n, sum_x, sum_y) grouped from `source`(layer_id, category_id,
    status, geom, sign)."""
    values = ", ".join(f"({lv})" for lv in levels)
    return f"""
        SELECT lv.level::smallint, LEAST(GREATEST(floor((p.mx + {HALF}) / ({2 * HALF} / 2 ^ lv.level)), 0),
                                         2 ^ lv.level - 1)::int AS x,
               LEAST(GREATEST(floor(({HALF} - p.my) / ({2 * HALF} / 2 ^ lv.level)), 0), 2 ^ lv.level - 1)::int AS y,
               p.layer_id, p.category_id, p.status,
               sum(p.sign)::int AS n, sum(p.sign * p.mx) AS sum_x, sum(p.sign * p.my) AS sum_y
        FROM (SELECT d.layer_id, d.category_id, d.status, d.sign,
                     ST_X(ST_Transform(d.geom, 3857)) AS mx, ST_Y(ST_Transform(d.geom, 3857)) AS my
              FROM ({source}) d) p
        CROSS JOIN (VALUES {values}) lv(level)
        GROUP BY 1, 2, 3, 4, 5, 6
    """


def _apply(source: str, levels: Sequence[int]) -> str:
    """Add the signed rows of `source` to the cells; cells that fall to zero are removed."""
    return f"""
        INSERT INTO tile_cells AS t (level, x, y, layer_id, category_id, status, n, sum_x, sum_y)
        SELECT * FROM ({_cells_select(source, levels)}) c
        WHERE c.n <> 0 OR c.sum_x <> 0 OR c.sum_y <> 0
        ORDER BY 1, 2, 3, 4, 5, 6  -- one lock order for every writer: no deadlocks between two statements
        ON CONFLICT (level, x, y, layer_id, category_id, status) DO UPDATE
        SET n = t.n + EXCLUDED.n, sum_x = t.sum_x + EXCLUDED.sum_x, sum_y = t.sum_y + EXCLUDED.sum_y;
        DELETE FROM tile_cells WHERE n = 0;
    """


def _bump(source: str) -> str:
    """A new version for each layer that shows a changed report: its own, and those its category is also on."""
    return f"""
        INSERT INTO tile_layer_versions AS v (layer_id, version)
        SELECT a.layer_id, nextval('tile_version_seq') FROM (
            SELECT ch.layer_id FROM ({source}) ch
            UNION
            SELECT l.id FROM ({source}) ch JOIN categories c ON c.id = ch.category_id
                             JOIN layers l ON l.slug = ANY(c.also_on)
            ORDER BY 1
        ) a
        ON CONFLICT (layer_id) DO UPDATE SET version = EXCLUDED.version;
    """


_MOVED = """o.status IS DISTINCT FROM n.status OR o.layer_id IS DISTINCT FROM n.layer_id
            OR o.category_id IS DISTINCT FROM n.category_id OR NOT ST_OrderingEquals(o.geom, n.geom)"""
_CHANGED = f"""{_MOVED} OR o.support_count IS DISTINCT FROM n.support_count
            OR o.updated_at IS DISTINCT FROM n.updated_at OR o.created_at IS DISTINCT FROM n.created_at
            OR o.public_id IS DISTINCT FROM n.public_id"""
_UPDATE_DELTA = f"""
    SELECT o.layer_id, o.category_id, o.status, o.geom, -1 AS sign
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_MOVED}
    UNION ALL
    SELECT n.layer_id, n.category_id, n.status, n.geom, 1
    FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_MOVED}"""
_UPDATE_CHANGED = f"""
    SELECT o.layer_id, o.category_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_CHANGED}
    UNION ALL
    SELECT n.layer_id, n.category_id FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {_CHANGED}"""


def function(levels: Sequence[int]) -> str:
    """The trigger function of 0011, counting `levels`."""
    return f"""
CREATE OR REPLACE FUNCTION tile_cells_on_reports() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply("SELECT layer_id, category_id, status, geom, 1 AS sign FROM new_rows", levels)}
        {_bump("SELECT layer_id, category_id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_apply("SELECT layer_id, category_id, status, geom, -1 AS sign FROM old_rows", levels)}
        {_bump("SELECT layer_id, category_id FROM old_rows")}
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply(_UPDATE_DELTA, levels)}
        {_bump(_UPDATE_CHANGED)}
    ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tile_cells;
        UPDATE tile_layer_versions SET version = nextval('tile_version_seq');
    END IF;
    RETURN NULL;
END
$fn$;
"""


def upgrade() -> None:
    # The lock first: no report may change between filling the new levels and the new trigger taking over.
    op.execute("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE")
    op.execute(function(LEVELS))
    added = [lv for lv in LEVELS if lv not in OLD_LEVELS]
    op.execute(
        _apply("SELECT layer_id, category_id, status, geom, 1 AS sign FROM reports", added).replace(
            "DELETE FROM tile_cells WHERE n = 0;", ""
        )
    )
    op.execute(
        "CREATE INDEX ix_photos_before_thumb ON photos (report_id, position) INCLUDE (thumb_key) WHERE kind = 'before'"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_photos_before_thumb")
    op.execute("LOCK TABLE reports IN SHARE ROW EXCLUSIVE MODE")
    op.execute(function(OLD_LEVELS))
    dropped = [lv for lv in LEVELS if lv not in OLD_LEVELS]
    op.execute(f"DELETE FROM tile_cells WHERE level IN ({', '.join(map(str, dropped))})")
