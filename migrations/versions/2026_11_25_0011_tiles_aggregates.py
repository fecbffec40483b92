"""tile aggregates: report counts per grid cell, and a version per layer, kept by triggers on reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 14:00:00

Why triggers, not application code: reports change in many places (submission, the office workflow,
re-routing, the demo generator's set-based INSERT ... SELECT, a psql session), and every one of them must
move the counts in its own transaction or a cluster shows a wrong number. A trigger is the one place
no writer can skip. They are statement-level triggers over transition tables, so a bulk insert of a
million rows adds its counts with one grouped upsert per statement, not a million single-row upserts.

The cells are Web Mercator tiles (the same grid as ST_TileEnvelope) at a few fixed levels; a tile at
zoom z below the aggregate limit sums the cells of the first stored level at or finer than z + 3.
Sums of the points' Mercator coordinates give each cluster its centre of mass, not a grid corner.
"""

# ruff: noqa: S608 - the SQL here is put together from this file's own constants; no value comes from outside

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep in step with mapapp.tiles.models.LEVELS.
LEVELS = (16, 14, 12, 10)
HALF = 20037508.342789244  # half the Web Mercator world, metres (ST_TileEnvelope's default bounds)


def _cells_select(source: str) -> str:
    """(level, x, y, layer, category, status, n, sum_x, sum_y) grouped from `source`(layer_id, category_id,
    status, geom, sign)."""
    levels = ", ".join(f"({lv})" for lv in LEVELS)
    return f"""
        SELECT lv.level::smallint, LEAST(GREATEST(floor((p.mx + {HALF}) / ({2 * HALF} / 2 ^ lv.level)), 0),
                                         2 ^ lv.level - 1)::int AS x,
               LEAST(GREATEST(floor(({HALF} - p.my) / ({2 * HALF} / 2 ^ lv.level)), 0), 2 ^ lv.level - 1)::int AS y,
               p.layer_id, p.category_id, p.status,
               sum(p.sign)::int AS n, sum(p.sign * p.mx) AS sum_x, sum(p.sign * p.my) AS sum_y
        FROM (SELECT d.layer_id, d.category_id, d.status, d.sign,
                     ST_X(ST_Transform(d.geom, 3857)) AS mx, ST_Y(ST_Transform(d.geom, 3857)) AS my
              FROM ({source}) d) p
        CROSS JOIN (VALUES {levels}) lv(level)
        GROUP BY 1, 2, 3, 4, 5, 6
    """


def _apply(source: str) -> str:
    """Add the signed rows of `source` to the cells; cells that fall to zero are removed."""
    return f"""
        INSERT INTO tile_cells AS t (level, x, y, layer_id, category_id, status, n, sum_x, sum_y)
        SELECT * FROM ({_cells_select(source)}) c
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


# An UPDATE moves counts only when a counted column changed; any public change (supporters, a new
# updated_at) makes new tiles, so it bumps the version.
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

FUNCTION = f"""
CREATE FUNCTION tile_cells_on_reports() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_apply("SELECT layer_id, category_id, status, geom, 1 AS sign FROM new_rows")}
        {_bump("SELECT layer_id, category_id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {_apply("SELECT layer_id, category_id, status, geom, -1 AS sign FROM old_rows")}
        {_bump("SELECT layer_id, category_id FROM old_rows")}
    ELSIF TG_OP = 'UPDATE' THEN
        {_apply(_UPDATE_DELTA)}
        {_bump(_UPDATE_CHANGED)}
    ELSIF TG_OP = 'TRUNCATE' THEN
        DELETE FROM tile_cells;
        UPDATE tile_layer_versions SET version = nextval('tile_version_seq');
    END IF;
    RETURN NULL;
END
$fn$;
"""

TRIGGERS = (
    "CREATE TRIGGER tile_cells_insert AFTER INSERT ON reports REFERENCING NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_on_reports()",
    "CREATE TRIGGER tile_cells_update AFTER UPDATE ON reports REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_on_reports()",
    "CREATE TRIGGER tile_cells_delete AFTER DELETE ON reports REFERENCING OLD TABLE AS old_rows"
    " FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_on_reports()",
    "CREATE TRIGGER tile_cells_truncate AFTER TRUNCATE ON reports FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_on_reports()",
)


def upgrade() -> None:
    op.execute("""
        CREATE TABLE tile_cells (
            level smallint NOT NULL,
            x integer NOT NULL,
            y integer NOT NULL,
            layer_id integer NOT NULL REFERENCES layers(id) ON DELETE CASCADE,
            category_id integer NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
            status varchar(16) NOT NULL,
            n integer NOT NULL,
            sum_x double precision NOT NULL,
            sum_y double precision NOT NULL,
            CONSTRAINT pk_tile_cells PRIMARY KEY (level, x, y, layer_id, category_id, status)
        )
    """)
    # Emptied cells are deleted right after the upsert that empties them; this keeps that DELETE an index probe.
    op.execute("CREATE INDEX ix_tile_cells_empty ON tile_cells (level) WHERE n = 0")
    op.execute("CREATE SEQUENCE tile_version_seq")
    op.execute("""
        CREATE TABLE tile_layer_versions (
            layer_id integer PRIMARY KEY REFERENCES layers(id) ON DELETE CASCADE,
            version bigint NOT NULL
        )
    """)
    op.execute(FUNCTION)
    for trigger in TRIGGERS:
        op.execute(trigger)
    # Reports stored before 0011.
    op.execute(
        _apply("SELECT layer_id, category_id, status, geom, 1 AS sign FROM reports").replace(
            "DELETE FROM tile_cells WHERE n = 0;", ""
        )
    )
    op.execute("INSERT INTO tile_layer_versions (layer_id, version) SELECT id, nextval('tile_version_seq') FROM layers")


def downgrade() -> None:
    for name in ("tile_cells_insert", "tile_cells_update", "tile_cells_delete", "tile_cells_truncate"):
        op.execute(f"DROP TRIGGER {name} ON reports")
    op.execute("DROP FUNCTION tile_cells_on_reports()")
    op.execute("DROP TABLE tile_layer_versions")
    op.execute("DROP SEQUENCE tile_version_seq")
    op.execute("DROP TABLE tile_cells")
