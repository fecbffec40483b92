"""The WHERE clauses the report readers share, one small function each.

The public GeoJSON (reports.queries), the office queue (offices.queue) and Open311 GET (through
reports.queries.report_summaries) filter reports the same way; each clause is written here once.
The readers alias reports `r`, categories `c` and layers `l`. Every value is a bound parameter; the
clauses themselves are fixed text.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mapapp.core import status as report_status
from mapapp.core.errors import InvalidInput


@dataclass
class Where:
    """Clauses joined with AND, and the parameters they bind."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, clause: str, **params: Any) -> "Where":
        """Add one clause and its parameters."""
        self.clauses.append(clause)
        self.params.update(params)
        return self

    def sql(self) -> str:
        """The clauses as one SQL condition (`true` when there are none)."""
        return " AND ".join(self.clauses) or "true"


def check_statuses(values: list[str] | None) -> None:
    """Refuse a value that is neither a workflow status nor a public group."""
    for value in values or []:
        if value not in report_status.STATUSES and value not in report_status.GROUPS:
            raise InvalidInput(f"unknown status {value!r}", field="status")


def statuses(where: Where, values: list[str] | None) -> Where:
    """Reports in any of the statuses or public groups named (e.g. 'triage', 'open')."""
    if not values:
        return where
    check_statuses(values)
    return where.add(
        f"(r.status = ANY(:statuses) OR {report_status.group_sql('r.status')} = ANY(:statuses))", statuses=list(values)
    )


def open_or_closed(where: Where, want_open: bool | None) -> Where:
    """Only open reports (True), only finished ones (False), or both (None)."""
    if want_open is None:
        return where
    clause = report_status.open_sql("r.status")  # written out: the open-report partial indexes then apply
    return where.add(clause if want_open else f"NOT ({clause})")


def categories(where: Where, slugs: list[str] | None) -> Where:
    """Reports of any of these category slugs."""
    if not slugs:
        return where
    return where.add("c.slug = ANY(:categories)", categories=list(slugs))


def layer(where: Where, slug: str | None) -> Where:
    """Reports filed on this layer."""
    if not slug:
        return where
    return where.add("l.slug = :layer", layer=slug)


def shown_on_layer(where: Where, slug: str | None) -> Where:
    """Reports the map shows on this layer: its own, and open everyday reports whose category is also on it."""
    if not slug:
        return where
    # An open everyday report can belong to a disaster layer too (a blocked drain during a flood).
    return where.add(
        f"(l.slug = :layer OR (:layer = ANY(c.also_on) AND {report_status.open_sql('r.status')}))", layer=slug
    )


def updated_since(where: Where, since: datetime | None) -> Where:
    """Reports changed at or after `since`."""
    if since is None:
        return where
    return where.add("r.updated_at >= :since", since=since)


def created_between(where: Where, start: datetime | None, end: datetime | None) -> Where:
    """Reports filed within [start, end]; either bound may be open."""
    if start is not None:
        where.add("r.created_at >= :start", start=start)
    if end is not None:
        where.add("r.created_at <= :end", end=end)
    return where


def older_than_hours(where: Where, hours: float | None) -> Where:
    """Reports filed at least this many hours ago."""
    if hours is None:
        return where
    return where.add("r.created_at <= now() - make_interval(secs => :min_age * 3600)", min_age=hours)


def overdue(where: Where, want: bool | None, *, open_only: bool = False) -> Where:
    """Reports past their response target (True), or not (False), or both (None).

    `open_only`: the caller already keeps only open reports, so "not overdue" is "not yet due", a range
    of the due time the planner reads from an index.
    """
    if want is None:
        return where
    if want is False and open_only:
        return where.add(f"{report_status.due_at_sql('r', 'c')} >= now()")
    # Written out, not compared with a parameter: the planner then sees the partial index's predicate.
    clause = report_status.overdue_sql("r", "c")
    return where.add(clause if want else f"NOT {clause}")


def search(where: Where, text: str | None, *, is_id: bool = False, places: list[list[int]] | None = None) -> Where:
    """Reports whose id is the text, or whose description or place (district, dong) holds every word of it.

    With `is_id` (the caller found a report with that id) only the id is compared: one index lookup.
    `places`, when the caller has looked them up, are the ids of the jurisdictions each word names: as
    constants the planner sees how few reports a dong holds and reads them by index.
    """
    words = search_words(text)
    if not words:
        return where
    if is_id:
        return where.add("r.public_id = :search_id", search_id=(text or "").strip())
    each = []
    for i, word in enumerate(words):
        # The word is matched as typed: % and _ in it are not wildcards.
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.params[f"search_{i}"] = f"%{escaped}%"
        if places is not None:
            where.params[f"search_place_{i}"] = list(places[i])
            named = f"r.district_id = ANY(:search_place_{i}) OR r.dong_id = ANY(:search_place_{i})"
        else:
            named = f"r.district_id IN ({PLACE_NAMED_SQL.format(i=i)}) OR r.dong_id IN ({PLACE_NAMED_SQL.format(i=i)})"
        each.append(f"(r.description ILIKE :search_{i} OR {named})")
    return where.add("(r.public_id = :search_id OR (" + " AND ".join(each) + "))", search_id=(text or "").strip())


# The jurisdictions whose Korean or English name holds search word number {i}.
PLACE_NAMED_SQL = "SELECT id FROM jurisdictions WHERE name_ko ILIKE :search_{i} OR name_en ILIKE :search_{i}"


def search_words(text: str | None) -> list[str]:
    """The words of a search, at most five."""
    return (text or "").split()[:5]


def bbox(where: Where, box: tuple[float, float, float, float] | None) -> Where:
    """Reports inside a west, south, east, north box (WGS84)."""
    if box is None:
        return where
    # The box is built once and compared with the indexed column as it is, so the GiST index is used.
    west, south, east, north = box
    return where.add(
        "r.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)", west=west, south=south, east=east, north=north
    )


def public_ids(where: Where, ids: list[str] | None) -> Where:
    """Reports with these public ids (None: no filter; an empty list matches nothing)."""
    if ids is None:
        return where
    return where.add("r.public_id = ANY(:ids)", ids=list(ids))


def office(where: Where, office_id: int) -> Where:
    """Reports in this office's queue."""
    return where.add("r.office_id = :office", office=office_id)
