"""The maintained aggregate behind the public indicators: one materialised view, rebuilt from reports and events.

Why a materialised view and not counters kept by triggers: every figure must come from the reports and
their timeline as they are, so a counter that drifted (a missed trigger path, a hand edit in psql) can
never be published. The view is recomputed as a whole from `reports` and `report_events`; between two
refreshes it is a consistent snapshot whose time (`stats_refreshes.refreshed_at`) every answer states.

One row per (scope, dimension value, day in the city's time zone) on which something happened, holding
running totals from the first day up to and including that day (prefix sums). A period's figure is the
total at its last day minus the total before its first day: two index probes whatever the period's
length, which keeps every answer fast at a million reports. The totals count:
- reports: only those the public may see (core.visibility); a report hidden by moderation is not counted;
- scopes: the city, each district, each office (the office that holds the report now);
- dimensions: `all`, `layer`, `category`, `channel`; the `all` rows also carry the time histograms
  `ack_hist` and `resolve_hist` (running counts per bucket of BUCKET_LOWER_HOURS), whence the percentiles;
- columns: received (filed), acknowledged (an office first moved it), resolved and closed by reason
  (reports whose *current* status is finished, on the day they reached it), due (reports whose response
  target passed that day, by the refresh time, and which were not closed as duplicate etc.), due_met
  (of those, resolved by the target), and net = received - finished, whose running total at a day is the
  backlog: reports open at that day's end.

Rules, each in one place: statuses from mapapp.core.status, the due time from core.status.due_at_sql,
close reasons from reports.models.
"""

from mapapp.core import status as report_status
from mapapp.core import visibility
from mapapp.reports.models import CLOSE_REASONS

VIEW = "stats_daily"
# Lower edges (hours) of the time buckets; bucket b (1-based) is [LOWER[b-1], LOWER[b]), the last is open.
# About 20-50 % wide: a percentile is published as the bucket it falls in ("12 to 16 hours").
BUCKET_LOWER_HOURS: tuple[float, ...] = (
    0, 0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 36, 48, 60, 72, 96, 120, 144, 168, 216, 264, 336, 420, 504, 600, 720,
    900, 1080, 1440, 2160, 2880, 4320, 8760,
)  # fmt: skip
SCOPES = ("city", "district", "office")
BREAKDOWNS = ("layer", "category", "channel")
HISTOGRAMS = ("ack_time", "resolve_time")
# The reports the public indicators count: those the public may see (core.visibility). A report hidden by
# moderation (spam, abuse, a person's data) is not counted: a published figure must agree with the public
# list and map it can be checked against, and a flood of spam would otherwise inflate "received". Staff
# still see it in their queues. Hiding or unhiding changes the figures at the next refresh.
PUBLIC_REPORT_SQL = visibility.report_public_sql("r")

_SCOPE_COLUMN = {"city": "city_id", "district": "district_id", "office": "office_id"}
_DIM_COLUMN = {"layer": "layer_id", "category": "category_id", "channel": "channel"}
COUNTS = ("received", "acknowledged", "resolved", *(f"closed_{r}" for r in CLOSE_REASONS), "due", "due_met", "net")


def _bucket_sql(hours: str) -> str:
    edges = ", ".join(str(e) for e in BUCKET_LOWER_HOURS)
    return f"width_bucket({hours}, ARRAY[{edges}]::float8[])"


def _hours(later: str, earlier: str) -> str:
    return f"(extract(epoch FROM {later} - {earlier}) / 3600.0)::float8"


def view_query(time_zone: str) -> str:
    """The SELECT the view stores, with days in `time_zone` (a checked IANA name, rendered as a literal)."""
    assert time_zone.replace("/", "").replace("_", "").replace("-", "").replace("+", "").isalnum(), time_zone
    resolved = report_status.is_sql("r.status", "resolved")
    closed = report_status.is_sql("r.status", "closed")
    finished = report_status.in_sql("r.status", report_status.CLOSED)
    h_resolved = report_status.is_sql("h.status", "resolved")
    resolve_bucket = _bucket_sql(_hours("f.finished_at", "f.created_at"))
    day = f"AT TIME ZONE '{time_zone}')::date"
    closed_cols = ", ".join(
        f"(h.kind = 'finished' AND {report_status.is_sql('h.status', 'closed')} AND h.close_reason = '{r}')::int"
        f" AS closed_{r}"
        for r in CLOSE_REASONS
    )
    sets = []
    for scope in SCOPES:
        s = _SCOPE_COLUMN[scope]
        sets.append(f"(day, {s})")
        sets += [f"(day, {s}, {_DIM_COLUMN[d]})" for d in BREAKDOWNS]
    scope_case = " ".join(f"WHEN GROUPING({_SCOPE_COLUMN[s]}) = 0 THEN '{s}'" for s in SCOPES)
    scope_id = " ".join(f"WHEN GROUPING({_SCOPE_COLUMN[s]}) = 0 THEN {_SCOPE_COLUMN[s]}" for s in SCOPES)
    dims = BREAKDOWNS
    # The time histograms ride on the `all` rows: one running count per bucket, kept as an array per day.
    on_all = " AND ".join(f"GROUPING({_DIM_COLUMN[d]}) = 1" for d in BREAKDOWNS)
    buckets = range(1, len(BUCKET_LOWER_HOURS) + 1)
    hist_daily = ", ".join(
        f"CASE WHEN {on_all} THEN sum(({column} = {b})::int) END AS {hist}_{b}"
        for hist, column in (("ack", "ack_bucket"), ("res", "resolve_bucket"))
        for b in buckets
    )
    hist_cums = ", ".join(
        f"CASE WHEN dim = 'all' THEN ARRAY[{', '.join(f'sum({hist}_{b}) OVER upto' for b in buckets)}] END AS {name}"
        for hist, name in (("ack", "ack_hist"), ("res", "resolve_hist"))
    )
    dim_case = " ".join(f"WHEN GROUPING({_DIM_COLUMN[d]}) = 0 THEN '{d}'" for d in dims)
    dim_value = " ".join(f"WHEN GROUPING({_DIM_COLUMN[d]}) = 0 THEN {_DIM_COLUMN[d]}::text" for d in dims)
    sums = ", ".join(f"sum({c})::int AS {c}" for c in COUNTS)
    cums = ", ".join(f"sum({c}) OVER upto AS {c}" for c in COUNTS)
    # A grouped scope or dimension whose value is NULL (a report in triage has no office) is not a row.
    keep = " OR ".join(f"(GROUPING({_SCOPE_COLUMN[s]}) = 0 AND {_SCOPE_COLUMN[s]} IS NOT NULL)" for s in SCOPES)
    keep_dim = " AND ".join(f"(GROUPING({_DIM_COLUMN[d]}) = 1 OR {_DIM_COLUMN[d]} IS NOT NULL)" for d in dims)
    return f"""
WITH timeline AS (
    SELECT e.report_id,
           min(e.created_at) FILTER (WHERE e.kind = 'status_changed') AS acknowledged_at,
           max(e.created_at) FILTER (WHERE {report_status.is_sql("e.to_status", "resolved")}) AS resolved_at,
           max(e.created_at) FILTER (WHERE {report_status.is_sql("e.to_status", "closed")}) AS closed_at
    FROM report_events e GROUP BY e.report_id
), facts AS (
    SELECT r.city_id, r.district_id, r.office_id, r.layer_id, r.category_id, r.channel, r.status, r.close_reason,
           r.created_at, t.acknowledged_at,
           CASE WHEN {resolved} THEN t.resolved_at WHEN {closed} THEN t.closed_at END AS finished_at,
           {report_status.due_at_sql("r", "c")} AS due_at, {finished} AS finished
    FROM reports r JOIN categories c ON c.id = r.category_id LEFT JOIN timeline t ON t.report_id = r.id
    WHERE {PUBLIC_REPORT_SQL}
), happenings AS (
    SELECT f.*, 'received' AS kind, (f.created_at {day} AS day, NULL::int AS ack_bucket, NULL::int AS resolve_bucket
    FROM facts f
    UNION ALL
    SELECT f.*, 'acknowledged', (f.acknowledged_at {day}, {_bucket_sql(_hours("f.acknowledged_at", "f.created_at"))},
           NULL FROM facts f WHERE f.acknowledged_at IS NOT NULL
    UNION ALL
    SELECT f.*, 'finished', (f.finished_at {day}, NULL,
           CASE WHEN {report_status.is_sql("f.status", "resolved")} THEN {resolve_bucket} END
    FROM facts f WHERE f.finished AND f.finished_at IS NOT NULL
    UNION ALL
    SELECT f.*, 'due', (f.due_at {day}, NULL, NULL
    FROM facts f WHERE f.due_at <= now() AND NOT {report_status.is_sql("f.status", "closed")}
), h AS (
    SELECT h.*, (h.kind = 'received')::int AS received, (h.kind = 'acknowledged')::int AS acknowledged,
           (h.kind = 'finished' AND {h_resolved})::int AS resolved, {closed_cols},
           (h.kind = 'due')::int AS due,
           (h.kind = 'due' AND {h_resolved} AND h.finished_at <= h.due_at)::int AS due_met,
           CASE h.kind WHEN 'received' THEN 1 WHEN 'finished' THEN -1 ELSE 0 END AS net
    FROM happenings h
)
SELECT scope_kind, scope_id, dim, dim_value, day, {cums}, {hist_cums}
FROM (
    SELECT (CASE {scope_case} END)::text AS scope_kind, (CASE {scope_id} END)::int AS scope_id,
           (CASE {dim_case} ELSE 'all' END)::text AS dim, (CASE {dim_value} ELSE '' END)::text AS dim_value,
           day, {sums}, {hist_daily}
    FROM h
    GROUP BY GROUPING SETS ({", ".join(sets)})
    HAVING ({keep}) AND {keep_dim}
) daily
WINDOW upto AS (PARTITION BY scope_kind, scope_id, dim, dim_value ORDER BY day)
"""  # noqa: S608 - rendered from this module's constants and core.status; no outside value


def create_sql(time_zone: str, name: str = VIEW) -> list[str]:
    """Statements that create the view `name` (with its data), its index and its statistics."""
    return [
        f"CREATE MATERIALIZED VIEW {name} AS {view_query(time_zone)}",
        # Every read is a probe of one key's newest row on or before a day: (scope, dim, value, day), answered
        # from the index alone once the view is vacuumed (service.vacuum), never from the table.
        f"CREATE UNIQUE INDEX ix_{name}_key ON {name} (scope_kind, scope_id, dim, dim_value, day)"
        f" INCLUDE ({', '.join(COUNTS)}, ack_hist, resolve_hist)",
        f"COMMENT ON MATERIALIZED VIEW {name} IS 'time_zone={time_zone}'",
        f"ANALYZE {name}",
    ]


def swap_sql(time_zone: str) -> list[str]:
    """Build the next view beside the current one, then put it in its place.

    Readers use the old view while the new one is built (minutes at a million reports) and wait only for the
    drop and renames at the end. A new table, unlike REFRESH ... CONCURRENTLY, has no dead rows to wade through
    and takes half the time.
    """
    following = f"{VIEW}_next"
    return [
        f"DROP MATERIALIZED VIEW IF EXISTS {following}",
        *create_sql(time_zone, following),
        f"DROP MATERIALIZED VIEW {VIEW}",
        f"ALTER MATERIALIZED VIEW {following} RENAME TO {VIEW}",
        f"ALTER INDEX ix_{following}_key RENAME TO ix_{VIEW}_key",
    ]


DROP_SQL = f"DROP MATERIALIZED VIEW IF EXISTS {VIEW}"
