"""Public reads, built in SQL and passed through as JSON text: no private field is ever selected."""

import base64
import hashlib
import json
import math
from datetime import datetime
from typing import Any

import psycopg2.extensions
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp import routing
from mapapp.core import caching, cells, visibility
from mapapp.core import status as report_status
from mapapp.core.errors import InvalidInput
from mapapp.core.settings import get_settings
from mapapp.jurisdictions import places
from mapapp.reports import filters
from mapapp.reports.service import ReportNotFound

DEFAULT_LIMIT, MAX_LIMIT = 1000, 10000
MEDIA = "/media/"

# The map's four colours: which public group each workflow status belongs to.
STATUS_GROUP_SQL = report_status.group_sql("r.status")

# Only public columns: the reporter's contact, photo GPS and private notes are never selected here.
FEATURE_SQL = f"""
    json_build_object(
        'type', 'Feature',
        'id', r.public_id,
        'geometry', ST_AsGeoJSON(r.geom, 6)::json,
        'properties', json_build_object(
            'id', r.public_id,
            'layer', l.slug,
            'category', c.slug,
            'category_name', json_build_object('ko', c.name_ko, 'en', c.name_en),
            'color', c.color,
            'icon', c.icon,
            'status', r.status,
            'status_group', {STATUS_GROUP_SQL},
            'close_reason', r.close_reason,
            'office', o.slug,
            'office_name', CASE WHEN o.id IS NULL THEN NULL
                                ELSE json_build_object('ko', o.name_ko, 'en', o.name_en) END,
            'district', d.code,
            'supporters', r.support_count,
            'created_at', r.created_at,
            'updated_at', r.updated_at,
            'thumbnail', (SELECT :media || p.thumb_key FROM photos p
                          WHERE p.report_id = r.id AND p.kind = 'before' AND {visibility.photo_public_sql("p", "c")}
                          ORDER BY p.position LIMIT 1)
        )
    )"""  # noqa: S608 - fixed SQL, no values

FROM_SQL = """
    FROM reports r
    JOIN categories c ON c.id = r.category_id
    JOIN layers l ON l.id = r.layer_id
    LEFT JOIN offices o ON o.id = r.office_id
    LEFT JOIN jurisdictions d ON d.id = r.district_id"""


def _cursor_encode(report_id: int) -> str:
    return base64.urlsafe_b64encode(str(report_id).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the cursor is not one this server gave out", field="cursor") from None


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """'west,south,east,north' in WGS84, checked."""
    if not bbox:
        return None
    try:
        west, south, east, north = (float(v) for v in bbox.split(","))
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north", field="bbox") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidInput("bbox must be finite numbers", field="bbox")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90) or west > east:
        raise InvalidInput("bbox must be west,south,east,north within -180..180 and -90..90", field="bbox")
    return west, south, east, north


def reports_feature_collection(
    session: Session,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    layer: str | None = None,
    category: str | None = None,
    statuses: list[str] | None = None,
    since: datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    next_url: str = "",
) -> bytes:
    """A GeoJSON FeatureCollection (RFC 7946) of public report fields, newest first, as UTF-8 JSON."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    where = filters.Where(params={"limit": limit + 1, "media": MEDIA}).add(visibility.report_public_sql("r"))
    filters.bbox(where, bbox)
    filters.shown_on_layer(where, layer)
    filters.categories(where, [category] if category else None)
    filters.statuses(where, statuses)
    filters.updated_since(where, since)
    if cursor:
        where.add("r.id < :after", after=_cursor_decode(cursor))
    sql = collection_sql(where.sql(), box_first=bbox is not None and read_box_first(session, bbox, limit))
    n, last_id, body = _fetch_raw(session, sql, where.params)
    if n > limit and next_url:
        link = next_url + ("&" if "?" in next_url else "?") + "cursor=" + _cursor_encode(last_id)
        # A foreign member in the style of OGC API Features: where the next page is.
        links = ', "links": [{"rel": "next", "type": "application/geo+json", "href": ' + json.dumps(link) + "}]}"
        body = body[:-1] + links.encode()
    return body


# The version the tile triggers keep per layer (migration 0011) changes with every change to a report the layer
# shows; the greatest of them changes with every change to any report (each change takes a new number).
_VERSION_SQL = text("""
    SELECT coalesce(max(v.version), 0) || '.' || count(*) FROM tile_layer_versions v
    WHERE CAST(:layer AS text) IS NULL OR v.layer_id = (SELECT id FROM layers WHERE slug = :layer)
""")


# The versions read within the last second, by layer (None: all layers), as for tiles (core.caching.Recent).
_versions: caching.Recent[str | None, str] = caching.Recent()


def collection_etag(session: Session, *, layer: str | None, query: str, fresh: bool = True) -> str:
    """A strong ETag for a GeoJSON answer: the version of the reports it can show and the query asked.

    With fresh=False a version read in this process's last second may serve: a 304 then needs no query."""
    version = None if fresh else _versions.get(layer)
    if version is None:
        version = str(session.execute(_VERSION_SQL, {"layer": layer}).scalar_one())
        _versions.put(layer, version)
    basis = f"{version}|{'&'.join(sorted(query.split('&')))}"
    return f'"g{version}-{hashlib.sha256(basis.encode()).hexdigest()[:24]}"'


def collection_sql(where: str, *, box_first: bool) -> str:
    """The page of a FeatureCollection in one pass: limit + 1 rows tell whether there is a next page, and
    only `limit` of them are sent.

    box_first: the reports matching `where` are found first (through the spatial index, in a CTE the planner
    must finish) and only the newest limit + 1 of them are shaped. Otherwise the planner is free, and for a
    box holding much of the table it walks the primary key newest first and stops at the page's end.
    """
    if box_first:
        source = f"""
            WITH matched AS MATERIALIZED (
                SELECT r.id FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
                WHERE {where}
            ), newest AS (SELECT id FROM matched ORDER BY id DESC LIMIT :limit)
            SELECT r.id, row_number() OVER (ORDER BY r.id DESC) AS rn, {FEATURE_SQL} AS feature
            {FROM_SQL}
            WHERE r.id IN (SELECT id FROM newest)
            ORDER BY r.id DESC"""  # noqa: S608 - fixed clauses, bound values
    else:
        source = f"""
            SELECT r.id, row_number() OVER (ORDER BY r.id DESC) AS rn, {FEATURE_SQL} AS feature
            {FROM_SQL}
            WHERE {where}
            ORDER BY r.id DESC
            LIMIT :limit"""
    return f"""
        SELECT count(*) AS n,
               min(page.id) FILTER (WHERE page.rn <= :limit - 1) AS last_id,
               json_build_object(
                   'type', 'FeatureCollection',
                   'features', coalesce(json_agg(page.feature ORDER BY page.id DESC)
                                        FILTER (WHERE page.rn <= :limit - 1), '[]'::json)
               )::text AS body
        FROM ({source}) page
    """  # noqa: S608 - the WHERE clauses are fixed strings; every value is a bound parameter


# The reports in a box, over-counted from the cells the tile triggers keep (every layer, category and status),
# and the table's size as the planner knows it.
_BOX_ESTIMATE_SQL = text("""
    SELECT coalesce(sum(n), 0) AS in_box, (SELECT reltuples FROM pg_class WHERE oid = 'reports'::regclass) AS total
    FROM tile_cells WHERE level = :level AND x = ANY(:xs) AND y BETWEEN :y0 AND :y1
""")
BOX_ESTIMATE_CELLS = 64  # the finest stored level at which the box covers at most this many cells is summed


def read_box_first(session: Session, box: tuple[float, float, float, float], limit: int) -> bool:
    """Whether reading the box through the spatial index reads fewer rows than walking the newest first.

    The box first reads the K reports in it; the walk reads about limit x N / K before it has a page. The
    first is chosen when K x K <= limit x N: a box the size of a district, whatever the table holds, costs
    what its own reports cost, and a box over the whole city still stops after a page.
    """
    west, south, east, north = box
    level, x0, y0, x1, y1 = cells.LEVELS[-1], 0, 0, 0, 0
    for level in cells.LEVELS:
        x0, y0 = cells.cell_of(west, north, level)
        x1, y1 = cells.cell_of(east, south, level)
        if (x1 - x0 + 1) * (y1 - y0 + 1) <= BOX_ESTIMATE_CELLS:
            break
    # Column by column (x = ANY), each a y range: a range of x would read every y of those columns.
    params = {"level": level, "xs": list(range(x0, x1 + 1)), "y0": y0, "y1": y1}
    row = session.execute(_BOX_ESTIMATE_SQL, params).one()
    in_box, total = int(row.in_box), max(float(row.total or 0), float(row.in_box))
    return in_box * in_box <= limit * total


def _fetch_raw(session: Session, sql: str, params: dict[str, Any]) -> tuple[int, int, bytes]:
    """Run on the driver's cursor and take the JSON as bytes: megabytes are not decoded and re-encoded."""
    compiled = text(sql).bindparams(**params).compile(dialect=session.get_bind().dialect)
    cursor = session.connection().connection.cursor()
    try:
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor)
        cursor.execute(str(compiled), compiled.params)
        row = cursor.fetchone()
    finally:
        cursor.close()
    assert row is not None  # an aggregate always answers one row
    return int(row[0]), row[1], bytes(row[2])


def nearby_reports(
    session: Session, *, lat: float, lon: float, category: str | None, layer: str | None, radius_m: float | None
) -> dict[str, Any]:
    """Open reports of a category (or layer) near a point, nearest first: 'already reported?'."""
    routing.check_coordinates(lon, lat)
    if not category and not layer:
        raise InvalidInput("give a category or a layer", field="category")
    settings = get_settings()
    if radius_m is None:
        default = session.execute(
            text("SELECT nearby_radius_m FROM categories WHERE slug = :c"), {"c": category}
        ).scalar()
        radius_m = float(default or 50)
    if not 0 < radius_m <= settings.nearby_max_radius_m:
        raise InvalidInput(f"radius must be between 1 and {settings.nearby_max_radius_m} metres", field="radius")
    params = {
        "lon": lon,
        "lat": lat,
        "radius": radius_m,
        "deg": routing.tolerance_degrees(radius_m, lat),
        "category": category,
        "layer": layer,
        "media": MEDIA,
    }
    sql = f"""
        WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
        near AS (
            SELECT r.id, ST_Distance(r.geom::geography, pt.g::geography) AS distance_m, {FEATURE_SQL} AS feature
            {FROM_SQL}, pt
            WHERE ST_DWithin(r.geom, pt.g, :deg) AND {report_status.open_sql("r.status")}
              AND {visibility.report_public_sql("r")}
              AND (CAST(:category AS text) IS NULL OR c.slug = :category)
              AND (CAST(:layer AS text) IS NULL OR l.slug = :layer)
        )
        SELECT coalesce(json_agg(json_build_object('report', feature, 'distance_m', round(distance_m::numeric, 1))
                                 ORDER BY distance_m), '[]'::json)
        FROM (SELECT * FROM near WHERE distance_m <= :radius ORDER BY distance_m LIMIT 20) n
    """  # noqa: S608 - fixed SQL, values bound
    items = session.execute(text(sql), params).scalar_one()
    return {"radius_m": radius_m, "reports": items}


def public_report(session: Session, *, public_id: str) -> dict[str, Any]:
    """One report as anyone may see it: photos, status, office and why, timeline, supporters."""
    sql = f"""
        SELECT {FEATURE_SQL} AS feature, r.description, r.location_source, r.resolved_at,
               {places.REPORT_PLACE_COLUMNS}, r.address, r.location_precision, c.response_hours,
               (SELECT coalesce(json_agg(json_build_object(
                    'kind', p.kind, 'url', :media || p.display_key, 'thumbnail', :media || p.thumb_key,
                    'width', p.width, 'height', p.height) ORDER BY p.kind DESC, p.position), '[]'::json)
                FROM photos p WHERE p.report_id = r.id AND {visibility.photo_public_sql("p", "c")}) AS photos,
               (SELECT coalesce(json_agg(json_build_object(
                    'kind', e.kind, 'from', e.from_status, 'to', e.to_status, 'note', e.public_note,
                    'at', e.created_at) ORDER BY e.created_at, e.id), '[]'::json)
                FROM report_events e WHERE e.report_id = r.id AND {visibility.event_public_sql("e")}) AS timeline,
               rd.reason_code, rd.reason_params, rd.rule, rd.manual
        {FROM_SQL}{places.REPORT_PLACE_JOINS}
        LEFT JOIN LATERAL (SELECT reason_code, reason_params, rule, manual FROM routing_decisions
                           WHERE report_id = r.id ORDER BY id DESC LIMIT 1) rd ON true
        WHERE r.public_id = :pid AND {visibility.report_public_sql("r")}
    """  # noqa: S608 - fixed SQL, values bound
    row = session.execute(text(sql), {"pid": public_id, "media": MEDIA}).mappings().first()
    if row is None:
        raise ReportNotFound(f"there is no report {public_id!r}", id=public_id)
    feature = row["feature"]
    props = feature["properties"]
    props |= {
        "description": row["description"],
        "location_source": row["location_source"],
        "resolved_at": row["resolved_at"].isoformat() if row["resolved_at"] else None,
        "district_name": {"ko": row["district_ko"], "en": row["district_en"]} if row["district_ko"] else None,
        "place": places.place_of_row(row),
        "address": row["address"],
        "location_precision": row["location_precision"],
        "response_hours": row["response_hours"],
        "photos": row["photos"],
        "timeline": row["timeline"],
        "routing": {
            "rule": row["rule"],
            "manual": row["manual"],
            "reason": {
                loc: routing.render_reason(row["reason_code"], row["reason_params"], loc) for loc in ("ko", "en")
            }
            if row["reason_code"]
            else None,
        },
    }
    return feature


def report_summaries(
    session: Session,
    *,
    public_ids: list[str] | None = None,
    categories: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    open_only: bool | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Flat public summaries of reports (for Open311 and exports), newest first, from the `offset`-th."""
    where = filters.Where(params={"limit": limit, "offset": offset, "media": MEDIA}).add(
        visibility.report_public_sql("r")
    )
    filters.public_ids(where, public_ids)
    filters.categories(where, categories)
    filters.created_between(where, start, end)
    filters.open_or_closed(where, open_only)
    sql = f"""
        SELECT r.public_id, c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en,
               r.status, r.close_reason, r.description, o.name_ko AS office_ko, o.name_en AS office_en,
               r.created_at, r.updated_at, {report_status.due_at_sql("r", "c")} AS expected_at,
               ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, {places.REPORT_PLACE_COLUMNS},
               r.address, r.location_precision, r.media_url,
               (SELECT :media || p.display_key FROM photos p WHERE p.report_id = r.id AND p.kind = 'before'
                AND {visibility.photo_public_sql("p", "c")} ORDER BY p.position LIMIT 1) AS photo,
               (SELECT e.public_note FROM report_events e WHERE e.report_id = r.id AND e.public_note <> ''
                ORDER BY e.created_at DESC, e.id DESC LIMIT 1) AS last_note
        {FROM_SQL}{places.REPORT_PLACE_JOINS}
        WHERE {where.sql()}
        ORDER BY r.created_at DESC, r.id DESC
        LIMIT :limit OFFSET :offset
    """  # noqa: S608 - fixed SQL, values bound
    return [
        dict(row) | {"place": places.place_of_row(row)} for row in session.execute(text(sql), where.params).mappings()
    ]
