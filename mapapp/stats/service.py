"""The public indicators for the city, a district or an office over a period, read from the stats_daily view.

Every figure is read in SQL from the view's running totals (the total at the period's last day minus the one
before its first day), and the view is rebuilt from the reports and their events (mapapp.stats.views says
exactly what each column counts). The answer says when the view was built.
"""

import logging
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from mapapp.core.errors import InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.reports.models import CHANNELS, CLOSE_REASONS
from mapapp.stats import views

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years: the longest period one answer covers
# The advisory lock that lets one refresh run at a time, across processes (a number no other lock uses).
REFRESH_LOCK = 0x57A75


class StatsScopeNotFound(NotFound):
    code = "stats_scope_not_found"


class InvalidStatsPeriod(InvalidInput):
    code = "invalid_stats_period"


@dataclass(frozen=True)
class Scope:
    kind: str
    id: int
    code: str
    name_ko: str
    name_en: str


def get_scope(session: Session, *, kind: str, code: str | None) -> Scope:
    """The city (its code optional: the one city), a district by code, or an office by slug."""
    if kind not in views.SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(views.SCOPES)}", field="scope")
    if kind == "office":
        sql = "SELECT id, slug AS code, name_ko, name_en FROM offices WHERE slug = :code"
    else:
        sql = """SELECT id, code, name_ko, name_en FROM jurisdictions
                 WHERE level = :level AND retired_at IS NULL AND (CAST(:code AS text) IS NULL OR code = :code)
                 ORDER BY code LIMIT 1"""
        if kind == "district" and not code:
            raise InvalidInput("a district scope needs its code", field="code")
    row = session.execute(text(sql), {"code": code or None, "level": kind}).mappings().first()
    if row is None:
        raise StatsScopeNotFound(f"there is no {kind} {code!r}", scope=kind, code=code)
    return Scope(kind=kind, id=row["id"], code=row["code"], name_ko=row["name_ko"], name_en=row["name_en"])


def city_today() -> date:
    """Today in the city's time zone."""
    return datetime.now(ZoneInfo(get_settings().time_zone)).date()


def get_period(start: date | None, end: date | None) -> tuple[date, date]:
    """[start, end] in whole days of the city's zone; by default the last 30 days up to today."""
    end = end or (start + timedelta(days=DEFAULT_DAYS - 1) if start else city_today())
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise InvalidStatsPeriod("'from' must not be after 'to'", field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidStatsPeriod(f"a period covers at most {MAX_DAYS} days", field="to", max_days=MAX_DAYS)
    return start, end


def bucket_bounds(bucket: int) -> tuple[float, float | None]:
    """The [low, high) hours of a time bucket (high None for the last, open one)."""
    edges = views.BUCKET_LOWER_HOURS
    return edges[bucket - 1], edges[bucket] if bucket < len(edges) else None


_COLUMNS = ("received", "acknowledged", "resolved", *(f"closed_{r}" for r in CLOSE_REASONS), "due", "due_met")
# The running totals of one key at the period's last day (e) and before its first day (s); their difference is
# the period's figure, e.net the backlog at its end.
_DIFFS = ", ".join(f"coalesce(e.{c}, 0) - coalesce(s.{c}, 0) AS {c}" for c in _COLUMNS)


def _at(alias: str, bound: str, columns: str = ", ".join(views.COUNTS)) -> str:
    """The newest running totals of key (k.kind, k.id, k.dim, k.value) on a day `bound`."""
    return f"""LEFT JOIN LATERAL (
        SELECT {columns} FROM {views.VIEW} v
        WHERE v.scope_kind = k.kind AND v.scope_id = k.id AND v.dim = k.dim AND v.dim_value = k.value AND v.day {bound}
        ORDER BY v.day DESC LIMIT 1) {alias} ON true"""  # noqa: S608 - fixed text


def _figures_sql(keys: str) -> str:
    """The period's figures for each key (kind, id, dim, value) that `keys` selects."""
    return f"""
        SELECT k.*, {_DIFFS}, coalesce(e.net, 0) AS open_at_end, coalesce(s.net, 0) AS open_at_start
        FROM ({keys}) k {_at("e", "<= :end")} {_at("s", "< :start")}
    """  # noqa: S608 - fixed text


TOTALS_SQL = _figures_sql("SELECT :kind AS kind, :id AS id, 'all' AS dim, '' AS value")

# Every day of the period, carrying forward the backlog of the last day on which something happened.
# Every day of the period: the backlog of the newest day on or before it on which something happened (one range
# read; a day without a row carries the one before, the days before the first row the backlog at the start).
BACKLOG_SQL = f"""
    SELECT day, coalesce(first_value(net) OVER (PARTITION BY grp ORDER BY day), (
        SELECT v.net FROM {views.VIEW} v WHERE v.scope_kind = :kind AND v.scope_id = :id AND v.dim = 'all'
        AND v.dim_value = '' AND v.day < :start ORDER BY v.day DESC LIMIT 1), 0) AS open
    FROM (
        SELECT g::date AS day, v.net, count(v.net) OVER (ORDER BY g) AS grp
        FROM generate_series(CAST(:start AS date), CAST(:end AS date), interval '1 day') g
        LEFT JOIN {views.VIEW} v ON v.scope_kind = :kind AND v.scope_id = :id AND v.dim = 'all' AND v.dim_value = ''
             AND v.day = g::date
    ) days
    ORDER BY day
"""  # noqa: S608 - fixed text; values bound

BREAKDOWN_SQL = f"""
    SELECT f.*, coalesce(l.slug, c.slug, f.value) AS code, coalesce(l.name_ko, c.name_ko) AS name_ko,
           coalesce(l.name_en, c.name_en) AS name_en
    FROM ({
    _figures_sql(
        "SELECT :kind AS kind, :id AS id, 'layer' AS dim, id::text AS value, id AS ref, sort_order FROM layers "
        "UNION ALL SELECT :kind, :id, 'category', id::text, id, sort_order FROM categories "
        "UNION ALL SELECT :kind, :id, 'channel', ch, NULL, n "
        "FROM unnest(CAST(:channels AS text[])) WITH ORDINALITY u(ch, n)"
    )
}) f
    LEFT JOIN layers l ON f.dim = 'layer' AND l.id = f.ref
    LEFT JOIN categories c ON f.dim = 'category' AND c.id = f.ref
    WHERE f.received <> 0 OR f.open_at_end <> 0 OR f.resolved <> 0 OR f.due <> 0
    ORDER BY f.dim, f.sort_order, code
"""  # noqa: S608 - fixed text; values bound

# Nearest rank: the p-th percentile is the ceil(p * n)-th smallest time; we name the bucket it falls in.
PERCENTILES_SQL = f"""
    WITH hist AS (
        SELECT h.dim, b AS bucket,
               coalesce((CASE h.dim WHEN 'ack_time' THEN e.ack_hist ELSE e.resolve_hist END)[b], 0)
               - coalesce((CASE h.dim WHEN 'ack_time' THEN s.ack_hist ELSE s.resolve_hist END)[b], 0) AS n
        FROM (SELECT :kind AS kind, :id AS id, 'all' AS dim, '' AS value) k
        {_at("e", "<= :end", "ack_hist, resolve_hist")} {_at("s", "< :start", "ack_hist, resolve_hist")}
        CROSS JOIN unnest(CAST(:hists AS text[])) h(dim) CROSS JOIN generate_series(1, :buckets) b
    ), cum AS (
        SELECT dim, bucket, sum(n) OVER (PARTITION BY dim ORDER BY bucket) AS upto,
               sum(n) OVER (PARTITION BY dim) AS total
        FROM hist
    )
    SELECT dim, total::int AS total, q.p, min(bucket) AS bucket
    FROM cum CROSS JOIN (VALUES (0.5), (0.9)) q(p)
    WHERE total > 0 AND upto >= ceil(q.p * total)
    GROUP BY dim, total, q.p
"""  # noqa: S608 - fixed text; values bound

DISTRICTS_SQL = f"""
    SELECT f.*, j.code, j.name_ko, j.name_en
    FROM ({
    _figures_sql(
        "SELECT 'district' AS kind, id, 'all' AS dim, '' AS value FROM jurisdictions "
        "WHERE level = 'district' AND retired_at IS NULL"
    )
}) f JOIN jurisdictions j ON j.id = f.id
    ORDER BY j.code
"""  # noqa: S608 - fixed text; values bound


def _share(met: int, due: int) -> float | None:
    return round(met / due, 4) if due else None


def _closed(row: dict[str, Any]) -> dict[str, int]:
    return {reason: row[f"closed_{reason}"] for reason in CLOSE_REASONS}


def _counts(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "received": row["received"],
        "acknowledged": row["acknowledged"],
        "resolved": row["resolved"],
        "closed": _closed(row),
        "open_at_end": row["open_at_end"],
        "within_target": {"due": row["due"], "met": row["due_met"], "share": _share(row["due_met"], row["due"])},
    }


FRESHNESS_SQL = """
    SELECT refreshed_at AS as_of, seconds, refreshed_at < now() - make_interval(secs => :every) AS stale
    FROM stats_refreshes
"""


def _as_json(parts: dict[str, str]) -> str:
    """One statement answering each of `parts` as a JSON array of its rows, one column per part."""
    # Fixed text from this module's statements: no value from outside.
    columns = ", ".join(
        f"(SELECT coalesce(json_agg({n}), '[]') FROM ({sql}) {n}) AS {n}"  # noqa: S608
        for n, sql in parts.items()
    )
    return f"SELECT {columns}"


# The statements of one answer: three round trips. The small parts go together (1 ms to plan and 1 ms to run
# at a million reports); the breakdowns and the districts stay apart, because joined with each other the
# planner ran them ten times slower (8 ms against 1.3 ms).
STATEMENTS = {
    "summary": _as_json(
        {"totals": TOTALS_SQL, "percentiles": PERCENTILES_SQL, "backlog": BACKLOG_SQL, "freshness": FRESHNESS_SQL}
    ),
    "breakdowns": _as_json({"breakdowns": BREAKDOWN_SQL}),
    "districts": _as_json({"districts": DISTRICTS_SQL}),
}


def indicators(session: Session, *, scope: Scope, start: date, end: date) -> dict[str, Any]:
    """Every public indicator of `scope` over [start, end] (days in the city's zone)."""
    every = get_settings().stats_refresh_seconds
    params = {
        "kind": scope.kind,
        "id": scope.id,
        "start": start,
        "end": end,
        "channels": list(CHANNELS),
        "hists": list(views.HISTOGRAMS),
        "buckets": len(views.BUCKET_LOWER_HOURS),
        "every": every or 10**9,
    }
    row: dict[str, Any] = {}
    for sql in STATEMENTS.values():
        row |= session.execute(text(sql), params).mappings().one()
    totals = row["totals"][0]
    times: dict[str, dict[str, Any]] = {d: {"count": 0, "p50": None, "p90": None} for d in views.HISTOGRAMS}
    for p in row["percentiles"]:
        low, high = bucket_bounds(p["bucket"])
        times[p["dim"]]["count"] = p["total"]
        times[p["dim"]]["p50" if p["p"] == 0.5 else "p90"] = {"low_hours": low, "high_hours": high}
    breakdowns: dict[str, list[dict[str, Any]]] = {d: [] for d in views.BREAKDOWNS}
    for b in row["breakdowns"]:
        name = {"ko": b["name_ko"], "en": b["name_en"]} if b["name_ko"] else None
        breakdowns[b["dim"]].append({"code": b["code"], "name": name} | _counts(b))
    fresh = row["freshness"][0]
    return {
        "scope": {"kind": scope.kind, "code": scope.code, "name": {"ko": scope.name_ko, "en": scope.name_en}},
        "period": {"from": start.isoformat(), "to": end.isoformat(), "time_zone": get_settings().time_zone},
        "freshness": {
            "as_of": fresh["as_of"],
            "refresh_seconds": round(fresh["seconds"], 2),
            "refreshed_every_seconds": every,
            "stale": fresh["stale"],
        },
        **_counts(totals),
        "open_at_start": totals["open_at_start"],
        "time_to_acknowledge": times["ack_time"],
        "time_to_resolve": times["resolve_time"],
        "backlog": [{"day": b["day"], "open": b["open"]} for b in row["backlog"]],
        "by_layer": breakdowns["layer"],
        "by_category": breakdowns["category"],
        "by_channel": breakdowns["channel"],
        "districts": [
            {
                "code": d["code"],
                "name": {"ko": d["name_ko"], "en": d["name_en"]},
                "received": d["received"],
                "resolved": d["resolved"],
                "open_at_end": d["open_at_end"],
                "within_target_share": _share(d["due_met"], d["due"]),
            }
            for d in row["districts"]
        ],
    }


def refresh(session: Session) -> float | None:
    """Rebuild the view from the reports and their events now; None when another refresh is running.

    The new figures count everything committed when this transaction began (its now(), kept as as_of).
    """
    if not session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK}):
        return None
    started = time.perf_counter()
    for statement in views.swap_sql(get_settings().time_zone):
        session.execute(text(statement))
    seconds = time.perf_counter() - started
    session.execute(text("UPDATE stats_refreshes SET refreshed_at = now(), seconds = :s"), {"s": seconds})
    return seconds


def vacuum(engine: Engine) -> None:
    """Mark the new view's pages all-visible, so that reads come from its index alone (outside a transaction)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"VACUUM {views.VIEW}"))


_refreshing = threading.Lock()


def refresh_in_background(engine: Engine) -> None:
    """Rebuild the view in a thread of this process (one at a time here, one at a time across processes).

    The request that noticed the figures were stale is answered at once with them; the next ones get new figures.
    """
    if not _refreshing.acquire(blocking=False):
        return

    def run() -> None:
        try:
            with Session(engine) as background, background.begin():
                seconds = refresh(background)
            if seconds is not None:
                vacuum(engine)
                log.info("stats view refreshed in %.1f s", seconds)
        except Exception:  # a failed refresh leaves the old figures, stated as old; the next request retries
            log.exception("stats view refresh failed")
        finally:
            _refreshing.release()

    threading.Thread(target=run, name="stats-refresh", daemon=True).start()
