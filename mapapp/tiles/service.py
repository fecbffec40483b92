"""Vector tiles built in PostGIS: report points at street zooms, clusters from the maintained cells below.

Both kinds of tile select public fields only (the public id, category, status, age, supporters): never
the reporter's contact, photo GPS or notes. Which reports a layer shows is the rule of GET /api/reports
(`reports.filters.shown_on_layer`): its own, and open everyday reports whose category is also on it.
Here it is written on ids, resolved once per request, so the reports' indexed columns are compared
with constants.
"""

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import caching, visibility
from mapapp.core import status as report_status
from mapapp.core.errors import InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.layers.state import effective_state_sql
from mapapp.reports import filters
from mapapp.tiles.models import CLUSTER_SHIFT, LEVELS, cell_level

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT, BUFFER = 4096, 64
HALF = 20037508.342789244  # half the Web Mercator world in metres: ST_TileEnvelope's bounds
POINTS_LAYER, CLUSTERS_LAYER = "reports", "clusters"
GROUPS = tuple(report_status.GROUPS)


class UnknownTileLayer(NotFound):
    """A tile URL naming no layer: a missing resource (404), unlike a form's unknown layer choice (422)."""

    code = "layer_not_found"


@dataclass(frozen=True)
class TileFilters:
    """The filters of GET /api/reports that tiles take too."""

    statuses: tuple[str, ...] | None = None
    category: str | None = None
    since: datetime | None = None

    def key(self) -> str:
        """A stable text of the filters, for the ETag."""
        since = self.since.astimezone(UTC).isoformat() if self.since else ""
        return f"s={','.join(self.statuses or ())}|c={self.category or ''}|t={since}"


@dataclass(frozen=True)
class LayerContext:
    """What a tile of a layer depends on besides its reports, read in one query."""

    id: int
    slug: str
    kind: str
    state: str
    version: int
    also_category_ids: tuple[int, ...]
    category_id: int | None  # the category filter resolved; None with no filter or an unknown slug

    @property
    def hot(self) -> bool:
        """An active disaster layer: everyone opens its map at once, so its tiles are kept in memory."""
        return self.kind == "disaster" and self.state == "active"


@dataclass(frozen=True)
class Tile:
    """A tile's bytes (None: the client's copy is current) and its ETag."""

    body: bytes | None
    etag: str
    cached: bool = False


_CONTEXT = text(f"""
    SELECT l.id, l.slug, l.kind, {effective_state_sql("l")} AS state, coalesce(v.version, 0) AS version,
           ARRAY(SELECT c.id FROM categories c WHERE l.slug = ANY(c.also_on) ORDER BY c.id) AS also_ids,
           (SELECT c.id FROM categories c WHERE c.slug = CAST(:category AS text)) AS category_id
    FROM layers l LEFT JOIN tile_layer_versions v ON v.layer_id = l.id
    WHERE l.slug = :layer
""")  # noqa: S608 - fixed SQL, values bound


# The layers' contexts by (layer, category filter), read within the last second (core.caching.Recent).
contexts: caching.Recent[tuple[str, str | None], LayerContext] = caching.Recent()


def layer_context(session: Session, *, layer: str, category: str | None = None, fresh: bool = True) -> LayerContext:
    """The layer, its version and the categories also shown on it; `unknown_layer` when there is none.

    With fresh=False a context read in the last `MAPAPP_VERSION_SECONDS` may serve (core.caching.Recent)."""
    key = (layer, category)
    if not fresh and (known := contexts.get(key)) is not None:
        return known
    row = session.execute(_CONTEXT, {"layer": layer, "category": category}).mappings().first()
    if row is None:
        raise UnknownTileLayer(f"there is no layer {layer!r}", layer=layer)
    ctx = LayerContext(
        id=row["id"],
        slug=row["slug"],
        kind=row["kind"],
        state=row["state"],
        version=int(row["version"]),
        also_category_ids=tuple(row["also_ids"]),
        category_id=row["category_id"],
    )
    contexts.put(key, ctx)
    return ctx


def expand_statuses(values: list[str] | None) -> tuple[str, ...] | None:
    """Workflow statuses named directly or through their public group, checked like GET /api/reports."""
    if not values:
        return None
    filters.check_statuses(values)
    return tuple(sorted({s for v in values for s in report_status.GROUPS.get(v, (v,))}))


def check_tile(z: int, x: int, y: int) -> None:
    """Refuse a tile outside the zoom range or the grid."""
    settings = get_settings()
    if not settings.tiles_min_zoom <= z <= settings.tiles_max_zoom:
        raise InvalidInput(f"zoom must be between {settings.tiles_min_zoom} and {settings.tiles_max_zoom}", field="z")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(f"x and y must be between 0 and {2**z - 1} at zoom {z}", field="x")


def etag(ctx: LayerContext, tile_filters: TileFilters, z: int, x: int, y: int) -> str:
    """A strong ETag: the layer's version, what else it shows, the filters, the tile and the day (ages)."""
    today = datetime.now(UTC).date().isoformat()
    basis = f"{ctx.id}|{ctx.version}|{ctx.also_category_ids}|{ctx.category_id}|{tile_filters.key()}|{z}/{x}/{y}|{today}"
    return f'"{ctx.version}-{hashlib.sha256(basis.encode()).hexdigest()[:24]}"'


def _where(prefix: str, ctx: LayerContext, tile_filters: TileFilters, params: dict[str, Any]) -> str:
    """The layer, category and status conditions on a table aliased `prefix` (reports or cells)."""
    params |= {"layer_id": ctx.id, "also_ids": list(ctx.also_category_ids)}
    clauses = [
        f"({prefix}.layer_id = :layer_id OR ({prefix}.category_id = ANY(:also_ids)"
        f" AND {report_status.open_sql(f'{prefix}.status')}))"
    ]
    if prefix == "r":  # the maintained cells count public reports only (their trigger, migration 0014)
        clauses.append(visibility.report_public_sql(prefix))
    if tile_filters.category is not None:
        # An unknown category matches nothing, as in GET /api/reports.
        clauses.append(f"{prefix}.category_id = :category_id")
        params["category_id"] = ctx.category_id if ctx.category_id is not None else -1
    if tile_filters.statuses:
        clauses.append(f"{prefix}.status = ANY(:statuses)")
        params["statuses"] = list(tile_filters.statuses)
    return " AND ".join(clauses)


def _group_counts(column: str, value: str) -> str:
    """One integer column per public status group, summing `value`."""
    return ", ".join(
        f"coalesce(sum({value}) FILTER (WHERE {report_status.in_sql(column, members)}), 0)::int AS {group}"
        for group, members in report_status.GROUPS.items()
    )


def points_sql(where: str) -> str:
    """Report points of one tile: the envelope transformed once to 4326 for the GiST index, the matched
    points transformed to 3857 for ST_AsMVTGeom."""
    return f"""
        WITH bounds AS (
            SELECT ST_TileEnvelope(:z, :x, :y) AS merc,
                   ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => :margin), 4326) AS geo
        )
        SELECT ST_AsMVT(t, '{POINTS_LAYER}', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_Transform(r.geom, 3857), bounds.merc, {EXTENT}, {BUFFER}, true) AS geom,
                   r.public_id AS id, c.slug AS category, r.status,
                   {report_status.group_sql("r.status")} AS status_group,
                   floor(extract(epoch FROM now() - r.created_at) / 86400)::int AS age_days,
                   floor(extract(epoch FROM now() - r.updated_at) / 86400)::int AS updated_days,
                   r.support_count AS supporters
            FROM reports r JOIN categories c ON c.id = r.category_id, bounds
            WHERE r.geom && bounds.geo AND {where}
        ) t
    """  # noqa: S608 - fixed SQL, values bound


def clusters_from_cells_sql(where: str) -> str:
    """Clusters of one tile summed from the maintained cells under it: no report is read."""
    return f"""
        SELECT ST_AsMVT(t, '{CLUSTERS_LAYER}', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(g.sx / g.count, g.sy / g.count), 3857),
                                ST_TileEnvelope(:z, :x, :y), {EXTENT}, 0, true) AS geom,
                   g.count, {", ".join(f"g.{group}" for group in GROUPS)}
            FROM (
                SELECT sum(cl.n)::int AS count, sum(cl.sum_x) AS sx, sum(cl.sum_y) AS sy,
                       {_group_counts("cl.status", "cl.n")}
                FROM tile_cells cl
                WHERE cl.level = :level AND cl.x = ANY(:xs) AND cl.y BETWEEN :y0 AND :y1 AND {where}
                GROUP BY cl.x >> :shift, cl.y >> :shift
            ) g
            WHERE g.count > 0
        ) t
    """  # noqa: S608 - fixed SQL, values bound


def clusters_from_reports_sql(where: str) -> str:
    """The same clusters counted from the reports: for `since`, which no maintained count can answer, and for a
    street-zoom tile too dense for one point per report."""
    cell = f"(2 * {HALF} / 2 ^ :display)"
    return f"""
        WITH bounds AS (SELECT ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS geo)
        SELECT ST_AsMVT(t, '{CLUSTERS_LAYER}', {EXTENT}, 'geom') FROM (
            SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(g.sx / g.count, g.sy / g.count), 3857),
                                ST_TileEnvelope(:z, :x, :y), {EXTENT}, 0, true) AS geom,
                   g.count, {", ".join(f"g.{group}" for group in GROUPS)}
            FROM (
                SELECT count(*)::int AS count, sum(p.mx) AS sx, sum(p.my) AS sy, {_group_counts("p.status", "1")}
                FROM (SELECT r.status, ST_X(m) AS mx, ST_Y(m) AS my
                      FROM (SELECT r.*, ST_Transform(r.geom, 3857) AS m FROM reports r, bounds
                            WHERE r.geom && bounds.geo AND {where}) r) p
                GROUP BY floor((p.mx + {HALF}) / {cell}), floor(({HALF} - p.my) / {cell})
            ) g
        ) t
    """  # noqa: S608 - fixed SQL, values bound


def more_than_sql(where: str) -> str:
    """Whether a tile holds more than :cap matching reports, reading at most :cap + 1 of them."""
    return f"""
        WITH bounds AS (SELECT ST_Transform(ST_TileEnvelope(:z, :x, :y), 4326) AS geo)
        SELECT count(*) > :cap FROM (
            SELECT 1 FROM reports r, bounds WHERE r.geom && bounds.geo AND {where} LIMIT :cap + 1
        ) r
    """  # noqa: S608 - fixed SQL, values bound


def _from_cells(ctx: LayerContext, tile_filters: TileFilters, z: int, x: int, y: int, params: dict[str, Any]) -> str:
    """The clusters of a tile summed from the maintained cells of its grid level (or the finest stored one)."""
    where = _where("cl", ctx, tile_filters, params)
    level, shift = cell_level(z)
    span = level - z
    # The columns one by one (x = ANY), each a range of y: a range of x would walk every y of those columns.
    params |= {
        "level": level,
        "shift": shift,
        "xs": list(range(x << span, (x + 1) << span)),
        "y0": y << span,
        "y1": ((y + 1) << span) - 1,
    }
    return clusters_from_cells_sql(where)


def build_tile(session: Session, ctx: LayerContext, tile_filters: TileFilters, z: int, x: int, y: int) -> bytes:
    """The MVT bytes of one tile."""
    params: dict[str, Any] = {"z": z, "x": x, "y": y}
    settings = get_settings()
    where = _where("r", ctx, tile_filters, params)
    if tile_filters.since is not None:  # no maintained count knows when a report changed: read the reports
        where += " AND r.updated_at >= :since"
        params["since"] = tile_filters.since
    if z < settings.tiles_cluster_below_zoom:
        if tile_filters.since is not None:
            params["display"] = min(z + CLUSTER_SHIFT, 30)
            sql = clusters_from_reports_sql(where)
        else:
            sql = _from_cells(ctx, tile_filters, z, x, y, params)
    else:
        params["cap"] = settings.tiles_max_points
        if session.execute(text(more_than_sql(where)), params).scalar():
            # Too many points to draw smoothly: true-count clusters instead, from the cells while a finer stored
            # level than the tile's own holds at least 2 x 2 of them, else from the tile's own reports.
            if tile_filters.since is None and z < max(LEVELS):
                sql = _from_cells(ctx, tile_filters, z, x, y, params)
            else:
                params["display"] = min(z + CLUSTER_SHIFT, 30)
                sql = clusters_from_reports_sql(where)
        else:
            params["margin"] = BUFFER / EXTENT
            sql = points_sql(where)
    body = session.execute(text(sql), params).scalar()
    return bytes(body or b"")


class TileCache:
    """Least recently used tiles, by ETag, up to a number of bytes; shared by the threads of one process."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._tiles: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The tile, marked as just used; None when absent."""
        with self._lock:
            body = self._tiles.get(key)
            if body is not None:
                self._tiles.move_to_end(key)
            return body

    def put(self, key: str, body: bytes) -> None:
        """Keep a tile, dropping the least recently used ones past the byte budget."""
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._tiles.pop(key, None)
            self._bytes -= len(old) if old is not None else 0
            self._tiles[key] = body
            self._bytes += len(body)
            while self._bytes > self.max_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        """Forget every tile."""
        with self._lock:
            self._tiles.clear()
            self._bytes = 0


_cache: TileCache | None = None


def tile_cache() -> TileCache:
    """The process's tile cache, sized from the settings on first use."""
    global _cache
    if _cache is None:
        _cache = TileCache(get_settings().tiles_cache_bytes)
    return _cache


def _from_memory(ctx: LayerContext, tag: str, if_none_match: str | None) -> Tile | None:
    """A 304 when the client's copy is current, or a hot tile kept in memory; None when it must be built."""
    if if_none_match and caching.matches(if_none_match, tag):
        return Tile(body=None, etag=tag)
    if ctx.hot and (body := tile_cache().get(tag)) is not None:
        return Tile(body=body, etag=tag, cached=True)
    return None


def remembered_tile(
    *, layer: str, z: int, x: int, y: int, tile_filters: TileFilters, if_none_match: str | None
) -> Tile | None:
    """The answer from this process's memory alone (the layer's version from the last second): a 304 or a hot
    tile; None when the database must be asked. For the edge in front of the routes (mapapp.tiles.edge)."""
    check_tile(z, x, y)
    ctx = contexts.get((layer, tile_filters.category))
    if ctx is None:
        return None
    return _from_memory(ctx, etag(ctx, tile_filters, z, x, y), if_none_match)


def get_tile(
    session: Session,
    *,
    layer: str,
    z: int,
    x: int,
    y: int,
    tile_filters: TileFilters,
    if_none_match: str | None,
    fresh: bool = True,
) -> Tile:
    """The tile and its ETag; no body when the client's copy (If-None-Match) is still current.

    With fresh=False the layer's version may come from this process's last second (`contexts`): a hot
    tile or a 304 is then answered without a query."""
    check_tile(z, x, y)
    ctx = layer_context(session, layer=layer, category=tile_filters.category, fresh=fresh)
    tag = etag(ctx, tile_filters, z, x, y)
    if (known := _from_memory(ctx, tag, if_none_match)) is not None:
        return known
    body = build_tile(session, ctx, tile_filters, z, x, y)
    if ctx.hot:
        tile_cache().put(tag, body)
    return Tile(body=body, etag=tag, cached=False)


def response_headers(tile: Tile) -> dict[str, str]:
    """The headers of a tile's answer (a 304 has no media type), wherever it is answered from."""
    headers = caching.cache_headers(tile.etag)
    if tile.body is not None:
        headers |= {"Content-Type": MVT_MEDIA_TYPE, "X-Tile-Cache": "hit" if tile.cached else "miss"}
    return headers


def tilejson(session: Session, *, layer: str, query: str, bounds: list[float] | None) -> dict[str, Any]:
    """A TileJSON 3.0.0 document for the layer's tiles (with the same filters in the tile URLs)."""
    ctx = layer_context(session, layer=layer)
    settings = get_settings()
    base = settings.public_base_url.rstrip("/")
    url = f"{base}/tiles/{ctx.slug}/{{z}}/{{x}}/{{y}}.mvt" + (f"?{query}" if query else "")
    low = settings.tiles_cluster_below_zoom
    point_fields = {
        "id": "String: the report's public id",
        "category": "String: the category slug",
        "status": "String: the workflow status",
        "status_group": f"String: {', '.join(GROUPS)}",
        "age_days": "Number: whole days since the report was filed",
        "updated_days": "Number: whole days since the report last changed",
        "supporters": "Number: 'me too's",
    }
    cluster_fields = {"count": "Number: reports in the cluster"} | {
        group: f"Number: reports in the {group} group" for group in GROUPS
    }
    return {
        "tilejson": "3.0.0",
        "name": ctx.slug,
        "scheme": "xyz",
        "tiles": [url],
        "minzoom": settings.tiles_min_zoom,
        "maxzoom": settings.tiles_max_zoom,
        "bounds": bounds or [-180, -85.0511, 180, 85.0511],
        "vector_layers": [
            {
                "id": CLUSTERS_LAYER,
                "description": "Every matching report, counted per cell (its true count): below the street zooms, "
                f"and at any zoom in a tile that would hold more than {settings.tiles_max_points} points",
                "minzoom": settings.tiles_min_zoom,
                "maxzoom": settings.tiles_max_zoom,
                "fields": cluster_fields,
            },
            {
                "id": POINTS_LAYER,
                "description": "One point per report, from the street zooms on (unless the tile is too dense)",
                "minzoom": low,
                "maxzoom": settings.tiles_max_zoom,
                "fields": point_fields,
            },
        ],
    }
