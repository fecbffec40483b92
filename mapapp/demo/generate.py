"""Many demo reports, fast: `mapapp demo generate --reports 1000000`.

Reports fall where people live (every administrative dong alike, most of them around a few hot spots
of their dong), in every category and status, aged over up to two years, each with its timeline.
Python only draws them and streams them, batch by batch, through COPY into a temporary table;
PostgreSQL routes each batch set-based (the points joined to the district parts and the offices, the
rules of `routing.route`) and writes the reports, their routing decisions, their timeline events and
their photo rows (pointing at a few shared placeholder images) with one statement each. Memory stays
flat: no batch is ever held in Python, the rows are produced while COPY reads them.
"""

import hashlib
import io
import itertools
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from psycopg2 import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.settings import get_settings
from mapapp.demo.offices import MISSING_OFFICE
from mapapp.demo.service import DESCRIPTIONS, NOTES, PATHS, Area, read_areas
from mapapp.routing import rule

BATCH = 20_000
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # the public ids' alphabet (reports.service.new_public_id)
_LOCALES = ("ko", "ko", "ko", "en")
_SOURCES = ("pin", "pin", "photo")

# Where a report stands now depends on its age: young ones wait, old ones are mostly done. Per age band
# (days, upper bound), weights per 100 of routed, acknowledged, assigned, in_progress, resolved, closed,
# reopened.
STATUSES = ("routed", "acknowledged", "assigned", "in_progress", "resolved", "closed", "reopened")
STATUS_BY_AGE: tuple[tuple[float, tuple[int, ...]], ...] = (
    (1, (55, 25, 8, 8, 3, 1, 0)),
    (7, (20, 20, 15, 20, 18, 5, 2)),
    (60, (6, 6, 8, 15, 52, 9, 4)),
    (float("inf"), (2, 2, 3, 5, 72, 12, 4)),
)
# Share of reports near one of their dong's hot spots (a market, a station, a school road); the rest
# anywhere in the dong.
HOT_SHARE = 0.75


@dataclass
class GenerateSummary:
    reports: int
    triage: int
    events: int
    photos: int
    seconds: float
    peak_rss_mib: float

    def __str__(self) -> str:
        return (
            f"{self.reports:,} reports ({self.triage:,} in triage), {self.events:,} timeline events, "
            f"{self.photos:,} photos in {self.seconds:.1f} s; peak memory {self.peak_rss_mib:.0f} MiB"
        )


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (VmHWM), in MiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass(frozen=True)
class _Category:
    id: int
    layer_id: int
    level: str
    department: str
    weight: float


class Places:
    """Where reports fall: each dong equally likely, most points near one of a few hot spots inside it.

    Administrative dong are drawn to hold similar numbers of residents, so an equal share per dong puts
    more reports where dong are small and people live densely, few on the mountains and the river.
    """

    def __init__(self, areas: tuple[Area, ...], rng: np.random.Generator) -> None:
        self.areas = areas
        self.geoms = np.array([a.geom for a in areas], dtype=object)
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms)
        per_dong = rng.integers(2, 6, size=len(areas))  # 2 to 5 hot spots a dong
        self.spot_dong = np.repeat(np.arange(len(areas)), per_dong)
        self.spot_x, self.spot_y = self.uniform(self.spot_dong, rng)
        self.spot_sigma_m = rng.uniform(60, 300, size=len(self.spot_dong))
        # Cumulative weights, offset by the dong's index: dong d's spots lie in (d, d + 1].
        cum = np.concatenate(
            [
                np.cumsum(w) / w.sum()
                for w in np.split(rng.gamma(2.0, size=len(self.spot_dong)), np.cumsum(per_dong)[:-1])
            ]
        )
        cum[np.cumsum(per_dong) - 1] = 1.0
        self.spot_cum = self.spot_dong + cum

    def uniform(self, dong: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Points drawn uniformly inside each given dong (rejection sampling in its bounding box)."""
        x, y = np.empty(len(dong)), np.empty(len(dong))
        todo = np.arange(len(dong))
        while len(todo):
            b = self.bounds[dong[todo]]
            cx = np.round(rng.uniform(b[:, 0], b[:, 2]), 6)
            cy = np.round(rng.uniform(b[:, 1], b[:, 3]), 6)
            inside = shapely.contains_xy(self.geoms[dong[todo]], cx, cy)
            x[todo[inside]], y[todo[inside]] = cx[inside], cy[inside]
            todo = todo[~inside]
        return x, y

    def sample(self, dong: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One point in each given dong: near a hot spot (a normal spread of 60-300 m), or anywhere."""
        x, y = self.uniform(dong, rng)
        hot = np.flatnonzero(rng.random(len(dong)) < HOT_SHARE)
        spot = np.searchsorted(self.spot_cum, dong[hot] + rng.random(len(hot)), side="right")
        for _ in range(8):  # a spot near the edge throws some points out of its dong: draw those again
            if not len(hot):
                break
            sigma = self.spot_sigma_m[spot]
            lat = self.spot_y[spot]
            cx = np.round(self.spot_x[spot] + rng.normal(0, sigma) / (111_320 * np.cos(np.radians(lat))), 6)
            cy = np.round(lat + rng.normal(0, sigma) / 110_574, 6)
            inside = shapely.contains_xy(self.geoms[dong[hot]], cx, cy)
            x[hot[inside]], y[hot[inside]] = cx[inside], cy[inside]
            hot, spot = hot[~inside], spot[~inside]
        return x, y  # whatever stayed outside keeps its uniform point


class _LineStream:
    """A file-like object over an iterator of text lines: COPY reads the rows as they are made."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = "".join(itertools.islice(self._lines, 256))
            if not chunk:
                break
            self._buffer += chunk.encode()
        if size < 0:
            size = len(self._buffer)
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


@dataclass(frozen=True)
class Placeholder:
    display_key: str
    thumb_key: str
    width: int
    height: int
    original_bytes: int
    original_sha256: str


def write_placeholder_photos(count: int = 4) -> list[Placeholder]:
    """A few plain JPEGs in the photo store that every generated photo row points at (written once)."""
    from PIL import Image, ImageDraw

    from mapapp.photos.storage import get_storage

    storage = get_storage()
    colours = [(196, 120, 60), (90, 130, 170), (120, 150, 90), (150, 110, 150), (170, 160, 90)]
    out = []
    for n in range(count):
        keys = []
        for width, height in ((960, 720), (400, 300)):
            image = Image.new("RGB", (width, height), colours[n % len(colours)])
            draw = ImageDraw.Draw(image)
            for i in range(0, height, max(height // 12, 1)):  # a few bands, so it reads as a picture
                shade = tuple(max(c - i * 60 // height, 0) for c in colours[n % len(colours)])
                draw.rectangle((0, i, width, i + height // 24), fill=shade)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=70)
            data = buffer.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            key = f"{digest[:2]}/{digest}.jpg"  # content-addressed, like every stored photo
            storage.put(key, data)
            keys.append((key, len(data), digest))
        (display, size, digest), (thumb, _, _) = keys
        out.append(Placeholder(display, thumb, 960, 720, size * 3, digest))
    return out


STAGE_SQL = """
CREATE TEMP TABLE demo_generated (
    seq bigint, public_id text, category_id int, layer_id int, lon float8, lat float8, description text,
    locale text, location_source text, support_count int, created float8, routed float8, status text,
    close_reason text, steps text[], offsets float8[], photos int, after_photo bool
) ON COMMIT DROP;
CREATE TEMP TABLE demo_routed (LIKE demo_generated) ON COMMIT DROP;
ALTER TABLE demo_routed ADD COLUMN id bigint, ADD COLUMN geom geometry(Point, 4326), ADD COLUMN district_id int,
    ADD COLUMN city_id int, ADD COLUMN dong_id int, ADD COLUMN office_id int, ADD COLUMN distance_m float8,
    ADD COLUMN rule text, ADD COLUMN category_level text, ADD COLUMN department text,
    ADD COLUMN created_at timestamptz,
    ADD COLUMN routed_at timestamptz, ADD COLUMN final_status text;
"""

# The rules of routing.route, set-based, built from the same fragments as routing/batch.py (routing/rule.py).
ROUTE_SQL = f"""
INSERT INTO demo_routed
WITH pts AS MATERIALIZED (
    SELECT g.seq, ST_SetSRID(ST_MakePoint(g.lon, g.lat), 4326) AS geom FROM demo_generated g
),
contained AS MATERIALIZED (
    SELECT pts.*,
           ({rule.part_containing_sql("district", "pts.geom")}) AS in_district,
           ({rule.part_containing_sql("dong", "pts.geom")}) AS dong_id
    FROM pts
),
located AS MATERIALIZED (
    SELECT x.*, coalesce(x.in_district, n.jurisdiction_id) AS district_id,
           CASE WHEN x.in_district IS NOT NULL THEN 0.0 ELSE n.distance_m END AS distance_m
    FROM contained x
    LEFT JOIN LATERAL ({
    rule.nearest_district_sql(
        "x.geom", rule.tolerance_degrees_sql("%(tolerance_m)s", "ST_Y(x.geom)"), when="x.in_district IS NULL"
    )
}) n ON n.distance_m <= %(tolerance_m)s
),
placed AS MATERIALIZED (
    SELECT l.*, {rule.city_sql("l.district_id", "d.parent_id", "l.geom")} AS city_id
    FROM located l LEFT JOIN jurisdictions d ON d.id = l.district_id
)
SELECT g.*, nextval(pg_get_serial_sequence('reports', 'id')), pl.geom, pl.district_id, pl.city_id, pl.dong_id,
       o.id, pl.distance_m, {rule.rule_sql(category="c.slug", level="c.level", department="c.department")},
       c.level, c.department, to_timestamp(g.created), to_timestamp(g.routed),
       CASE WHEN o.id IS NULL THEN '{rule.status_after(False)}' ELSE g.status END
FROM placed pl
JOIN demo_generated g ON g.seq = pl.seq
JOIN categories c ON c.id = g.category_id
LEFT JOIN offices o ON {rule.office_match_sql("o", "c", "pl.district_id", "pl.city_id")}
ORDER BY g.seq
"""  # noqa: S608 - fixed fragments of the routing rule; the values are bound parameters

# A triage report stops where routing left it: its workflow steps are not written.
_STEP_AT = "r.routed_at + make_interval(secs => r.offsets[{i}])"
REPORTS_SQL = f"""
INSERT INTO reports (id, public_id, layer_id, category_id, geom, description, status, close_reason, channel,
                     locale, location_source, office_id, city_id, district_id, dong_id, routing_rule, routing_manual,
                     support_count, created_at, updated_at, resolved_at, routed_at)
SELECT r.id, r.public_id, r.layer_id, r.category_id, r.geom, r.description, r.final_status,
       CASE WHEN r.office_id IS NOT NULL THEN r.close_reason END, 'demo', r.locale, r.location_source,
       r.office_id, r.city_id, r.district_id, r.dong_id, r.rule, false, r.support_count, r.created_at,
       CASE WHEN r.office_id IS NULL OR cardinality(r.offsets) = 0 THEN r.routed_at
            ELSE {_STEP_AT.format(i="cardinality(r.offsets)")} END,
       CASE WHEN r.office_id IS NOT NULL AND array_position(r.steps, 'resolved') IS NOT NULL
            THEN {_STEP_AT.format(i="array_position(r.steps, 'resolved')")} END,
       r.routed_at
FROM demo_routed r ORDER BY r.id
"""  # noqa: S608 - fixed SQL

DECISIONS_SQL = f"""
INSERT INTO routing_decisions
    (report_id, office_id, city_id, district_id, method, rule, reason_code, reason_params, manual, decided_by,
     decided_at)
SELECT u.id, u.office_id, u.city_id, u.district_id,
       {rule.method_sql("u.district_id", "u.distance_m")},
       u.rule,
       {rule.reason_code_sql("u.district_id", "u.city_id", "u.office_id", "u.distance_m")},
       jsonb_strip_nulls(jsonb_build_object(
           'category', c.slug, 'category_ko', c.name_ko, 'category_en', c.name_en,
           'level', c.level, 'level_ko', {rule.level_ko_sql("c.level")},
           'department', c.department, 'tolerance_m', round(CAST(%(tolerance_m)s AS numeric)),
           'district_code', d.code, 'district_ko', d.name_ko, 'district_en', d.name_en,
           'distance_m', round(CAST(u.distance_m AS numeric), 1),
           'city_code', ci.code, 'city_ko', ci.name_ko, 'city_en', ci.name_en,
           'jurisdiction_code', rj.code, 'jurisdiction_ko', rj.name_ko, 'jurisdiction_en', rj.name_en,
           'office', o.slug, 'office_ko', o.name_ko, 'office_en', o.name_en)),
       false, 'system', u.routed_at
FROM demo_routed u
JOIN categories c ON c.id = u.category_id
LEFT JOIN jurisdictions d ON d.id = u.district_id
LEFT JOIN jurisdictions ci ON ci.id = u.city_id
LEFT JOIN jurisdictions rj ON u.district_id IS NOT NULL
     AND rj.id = CASE u.category_level WHEN 'district' THEN u.district_id ELSE u.city_id END
LEFT JOIN offices o ON o.id = u.office_id
ORDER BY u.id
"""  # noqa: S608 - fixed fragments of the routing rule; the values are bound parameters

# Submitted, routed, then each workflow step: inserted in time order, so ids follow the timeline.
EVENTS_SQL = f"""
INSERT INTO report_events (report_id, kind, from_status, to_status, actor, public_note, private_note, created_at)
SELECT report_id, kind, from_status, to_status, actor, public_note, '', created_at
FROM (
    SELECT r.id AS report_id, 0 AS n, 'submitted' AS kind, NULL AS from_status, 'submitted' AS to_status,
           'citizen' AS actor, '' AS public_note, r.created_at
    FROM demo_routed r
    UNION ALL
    SELECT r.id, 1, 'routed', 'submitted', CASE WHEN r.office_id IS NULL THEN 'triage' ELSE 'routed' END, 'system',
           '', r.routed_at
    FROM demo_routed r
    UNION ALL
    SELECT r.id, 1 + s.n, CASE s.step WHEN 'reopened' THEN 'reopened' ELSE 'status_changed' END,
           CASE WHEN s.n = 1 THEN 'routed' ELSE r.steps[s.n - 1] END, s.step,
           CASE s.step WHEN 'reopened' THEN 'citizen' ELSE 'office' END,
           CASE s.step
               WHEN 'resolved' THEN (%(resolved)s::text[])[1 + (r.seq + s.n) %% cardinality(%(resolved)s::text[])]
               WHEN 'reopened' THEN (%(reopened)s::text[])[1 + (r.seq + s.n) %% cardinality(%(reopened)s::text[])]
               WHEN 'closed' THEN CASE r.close_reason WHEN 'duplicate' THEN %(duplicate)s ELSE %(cannot_fix)s END
               ELSE '' END,
           {_STEP_AT.format(i="s.n")}
    FROM demo_routed r, unnest(r.steps) WITH ORDINALITY AS s(step, n)
    WHERE r.office_id IS NOT NULL
) e
ORDER BY report_id, n
"""  # noqa: S608 - fixed SQL

# The citizen's photos (the first carries GPS when the location came from it) and the office's 'after'
# photo of a resolved report; every row names one of the shared placeholder files.
PHOTOS_SQL = f"""
INSERT INTO photos (report_id, position, kind, display_key, thumb_key, width, height, media_type, original_bytes,
                    original_sha256, gps_lat, gps_lon, created_at)
SELECT r.id, p.position, p.kind, (%(display)s::text[])[k], (%(thumb)s::text[])[k], %(width)s, %(height)s,
       'image/jpeg', (%(bytes)s::int[])[k], (%(sha)s::text[])[k],
       CASE WHEN p.kind = 'before' AND p.position = 0 AND r.location_source = 'photo' THEN r.lat END,
       CASE WHEN p.kind = 'before' AND p.position = 0 AND r.location_source = 'photo' THEN r.lon END,
       p.at
FROM demo_routed r
CROSS JOIN LATERAL (
    SELECT g - 1 AS position, 'before' AS kind, r.created_at AS at FROM generate_series(1, r.photos) g
    UNION ALL
    SELECT 0, 'after', {_STEP_AT.format(i="array_position(r.steps, 'resolved')")}
    WHERE r.after_photo AND r.office_id IS NOT NULL AND array_position(r.steps, 'resolved') IS NOT NULL
) p
CROSS JOIN LATERAL (SELECT 1 + (r.seq + p.position + length(p.kind)) %% cardinality(%(display)s::text[]) AS k) pick
ORDER BY r.id
"""  # noqa: S608 - fixed SQL


# The tables the generator writes. Their foreign keys and secondary indexes are set aside while it loads
# and made again at the end, as pg_restore does: one check of each key over all rows and one sorted
# index build, instead of a lookup per row and key and a million index insertions, which were most of
# the load time. The transaction makes it all or nothing (and holds the tables' locks until then).
LOADED_TABLES = ("reports", "routing_decisions", "report_events", "photos")


@contextmanager
def _keys_and_indexes_built_at_end(cursor: Any) -> Iterator[None]:
    cursor.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY (CAST(%s AS regclass[])) AND NOT i.indisprimary AND NOT i.indisunique "
        "ORDER BY i.indexrelid",
        (list(LOADED_TABLES),),
    )
    indexes = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY (CAST(%s AS regclass[])) ORDER BY conrelid, conname",
        (list(LOADED_TABLES),),
    )
    keys = cursor.fetchall()
    for table, name, _ in keys:
        cursor.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name)))
    yield
    for table, name, definition in keys:
        cursor.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.Identifier(table), sql.Identifier(name))
            + sql.SQL(definition)
        )
    cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in indexes:
        cursor.execute(definition)


def _categories(session: Session) -> list[_Category]:
    rows = session.execute(
        text(
            "SELECT c.id, c.layer_id, l.kind, c.slug, c.level, c.department FROM categories c "
            "JOIN layers l ON l.id = c.layer_id WHERE NOT c.retired ORDER BY c.slug"
        )
    ).all()
    # Everyday problems far outnumber disaster reports, as in a real city.
    return [_Category(r.id, r.layer_id, r.level, r.department, 8.0 if r.kind == "everyday" else 1.0) for r in rows]


class _Drawer:
    """Draws reports, row by row, as lines of COPY text; the same seed gives the same reports."""

    def __init__(self, *, seed: int, span_days: float, now: float, categories: list[_Category], showcase: bool):
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)
        self.ids = random.Random(os.urandom(16))  # public ids must differ between runs, whatever the seed
        self.span_days, self.now, self.categories, self.showcase = span_days, now, categories, showcase
        self.dong = read_areas("dong")
        self.places = Places(self.dong, self.np)
        weights = np.array([c.weight for c in categories])
        self.category_p = weights / weights.sum()
        self.descriptions = [d.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ") for d in DESCRIPTIONS]
        # Showcase (the small demo): every category once, one report where no office takes it, every status once.
        self.first = list(range(len(categories)))
        missing = [i for i, c in enumerate(categories) if (c.level, c.department) == ("district", MISSING_OFFICE[1])]
        self.missing_at = len(categories) if missing else -1
        self.first += missing[:1]
        self.missing_dong = np.array([i for i, a in enumerate(self.dong) if a.parent == MISSING_OFFICE[0]])

    def lines(self, start: int, count: int) -> Iterator[str]:
        """COPY lines for reports number `start` to `start + count - 1`."""
        g = self.np
        dong = g.integers(0, len(self.dong), size=count)
        category = g.choice(len(self.categories), size=count, p=self.category_p)
        if self.showcase:
            for n in range(start, min(start + count, len(self.first))):
                category[n - start] = self.first[n]
                if n == self.missing_at and len(self.missing_dong):
                    dong[n - start] = g.choice(self.missing_dong)
        lon, lat = self.places.sample(dong, g)
        # Skewed to the recent (more people report as the service becomes known); at least 10 minutes old.
        age = self.span_days * 86400 * g.random(count) ** 1.6 + g.uniform(600, 36000, size=count)
        support = g.exponential(2.0, size=count).astype(int)
        description = g.integers(0, len(self.descriptions), size=count)
        photos = g.choice((0, 0, 0, 0, 0, 1, 1, 1, 1, 2), size=count)
        after = g.random(count) < 0.5
        locale = g.integers(0, len(_LOCALES), size=count)
        for i in range(count):
            n = start + i
            c = self.categories[category[i]]
            created = self.now - age[i]
            routed = created + 2 + n % 37  # routing happens seconds after a report arrives
            source = _SOURCES[n % 3]
            status = self._status(n, age[i] / 86400)
            steps, offsets, reason = self._path(status, (self.now - routed) / 3600 - 0.05)
            yield (
                f"{n}\t{''.join(self.ids.choices(_ALPHABET, k=10))}\t{c.id}\t{c.layer_id}\t{lon[i]:.6f}\t"
                f"{lat[i]:.6f}\t{self.descriptions[description[i]]}\t{_LOCALES[locale[i]]}\t"
                f"{source}\t{support[i]}\t{created:.6f}\t{routed:.6f}\t{status}\t{reason or chr(92) + 'N'}\t"
                f"{{{','.join(steps)}}}\t{{{','.join(f'{o:.3f}' for o in offsets)}}}\t"
                f"{max(photos[i], 1) if source == 'photo' else photos[i]}\t{'t' if after[i] else 'f'}\n"
            )

    def _status(self, n: int, age_days: float) -> str:
        if self.showcase and n < len(STATUSES):
            return STATUSES[n]
        weights = next(w for limit, w in STATUS_BY_AGE if age_days < limit)
        return self.rng.choices(STATUSES, weights)[0]

    def _path(self, status: str, room_hours: float) -> tuple[list[str], list[float], str | None]:
        """The workflow steps to `status` and their times, in seconds after routing, inside the time it had."""
        path = self.rng.choice(PATHS[status])
        hours = [self.rng.uniform(least, most) for _, least, most in path]
        if sum(hours) > room_hours:  # a young report has had less time: its steps are squeezed
            hours = [h * room_hours / sum(hours) for h in hours]
        steps = [step for step, _, _ in path]
        reason = None
        if "closed" in steps:
            reason = "duplicate" if steps[0] == "closed" else "cannot_fix"
        return steps, [s * 3600 for s in itertools.accumulate(hours)], reason


def generate_reports(
    session: Session,
    *,
    reports: int,
    seed: int = 1,
    span_days: float = 730,
    showcase: bool = False,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateSummary:
    """Add `reports` routed demo reports with timelines and photos to the loaded demo city, with COPY."""
    started = time.perf_counter()
    tolerance = get_settings().gap_tolerance_m
    categories = _categories(session)
    placeholders = write_placeholder_photos()
    drawer = _Drawer(
        seed=seed, span_days=span_days, now=datetime.now(UTC).timestamp(), categories=categories, showcase=showcase
    )
    params = {
        "tolerance_m": tolerance,
        "resolved": NOTES["resolved"],
        "reopened": NOTES["reopened"],
        "duplicate": NOTES["duplicate"][0],
        "cannot_fix": NOTES["cannot_fix"][0],
        "display": [p.display_key for p in placeholders],
        "thumb": [p.thumb_key for p in placeholders],
        "bytes": [p.original_bytes for p in placeholders],
        "sha": [p.original_sha256 for p in placeholders],
        "width": placeholders[0].width,
        "height": placeholders[0].height,
    }
    dbapi: Any = session.connection().connection.dbapi_connection  # psycopg2's own, for COPY
    assert dbapi is not None
    triage = events = photos = done = 0
    with dbapi.cursor() as cursor, _keys_and_indexes_built_at_end(cursor):
        # JIT compiling these statements costs more than running them; sorts of a batch fit in memory.
        cursor.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        cursor.execute(STAGE_SQL)
        if progress is not None:
            progress(0, reports)
        while done < reports:
            count = min(batch, reports - done)
            cursor.execute("TRUNCATE demo_generated, demo_routed")
            cursor.copy_expert("COPY demo_generated FROM STDIN", _LineStream(drawer.lines(done, count)), size=65536)
            cursor.execute(ROUTE_SQL, params)
            cursor.execute(REPORTS_SQL)
            cursor.execute(DECISIONS_SQL, params)
            cursor.execute(EVENTS_SQL, params)
            events += cursor.rowcount
            cursor.execute(PHOTOS_SQL, params)
            photos += cursor.rowcount
            cursor.execute("SELECT count(*) FROM demo_routed WHERE office_id IS NULL")
            triage += cursor.fetchone()[0]
            done += count
            if progress is not None:
                progress(done, reports)
        cursor.execute("DROP TABLE demo_generated, demo_routed")
    with dbapi.cursor() as cursor:
        # Fresh statistics, so the first queries over the new rows are planned for their real size.
        cursor.execute("ANALYZE " + ", ".join(LOADED_TABLES))
    return GenerateSummary(reports, triage, events, photos, time.perf_counter() - started, peak_rss_mib())
