"""An office's queue and the triage queue, built in SQL, for the people allowed to see them.

The office desk's list, its map and its CSV export read the same `QueueQuery`, so one set of filters
drives all three. The first page of every filter and sort walks an index (migration 0013): the open
reports of an office by creation time, by due time and by supporters.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import status as report_status
from mapapp.core.actors import Actor, Forbidden
from mapapp.core.csv_export import safe_cell
from mapapp.core.db import transaction
from mapapp.core.errors import InvalidInput
from mapapp.jurisdictions import places
from mapapp.offices.models import Office
from mapapp.offices.service import get_office_or_raise
from mapapp.reports import filters

MEDIA = "/media/"
PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
CSV_BATCH = 2000
MAP_POINTS = 2000  # the most markers the desk's map draws for one filter (it says when there are more)
# The office queue's CSV export, in this order; mapapp.core.csv_export makes its cells spreadsheet-safe.
CSV_COLUMNS = (
    "id",
    "status",
    "category",
    "layer",
    "created_at",
    "due_at",
    "overdue",
    "supporters",
    "lat",
    "lon",
    "place_ko",
    "place_en",
    "address",
    "location_precision",
    "assignee",
    "description",
)
# Allow-listed ORDER BYs; the id breaks ties so that pages never repeat or skip a report.
SORTS = {
    "age": "r.created_at ASC, r.id ASC",
    "newest": "r.created_at DESC, r.id DESC",
    "priority": "r.due_at ASC, r.id ASC",
    "supporters": "r.support_count DESC, r.id ASC",
}
ROW_COLUMNS = f"""
    r.public_id AS id, r.status, c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en,
    l.slug AS layer, r.description, r.created_at, r.support_count AS supporters,
    ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, r.location_flag, c.response_hours,
    {report_status.due_at_sql("r", "c")} AS due_at, {report_status.overdue_sql("r", "c")} AS overdue,
    r.address, r.location_precision, u.email AS assignee, {places.REPORT_PLACE_COLUMNS}"""
FROM_SQL = f"""
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
    LEFT JOIN users u ON u.id = r.assigned_to
    {places.REPORT_PLACE_JOINS}"""
THUMBNAIL_SQL = f"""(SELECT '{MEDIA}' || p.thumb_key FROM photos p
                     WHERE p.report_id = r.id AND p.kind = 'before' ORDER BY p.position LIMIT 1) AS thumbnail"""  # noqa: S608

TRIAGE_SQL = f"""
    SELECT r.public_id AS id, d.reason_code, r.status, c.slug AS category, c.name_ko AS category_ko,
           c.name_en AS category_en, l.slug AS layer, r.description, r.created_at, r.support_count AS supporters,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, r.location_flag, r.channel,
           r.address, r.location_precision, {places.REPORT_PLACE_COLUMNS}, {THUMBNAIL_SQL}
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
    {places.REPORT_PLACE_JOINS}
    LEFT JOIN LATERAL (SELECT reason_code FROM routing_decisions WHERE report_id = r.id
                       ORDER BY id DESC LIMIT 1) d ON true
    WHERE {report_status.is_sql("r.status", "triage")}
    ORDER BY r.created_at, r.id
    LIMIT :limit OFFSET :offset
"""  # noqa: S608 - fixed fragments, no values


@dataclass
class QueueQuery:
    """The desk's filters: the same for the list, the map and the CSV export."""

    statuses: list[str] | None = None
    open: bool | None = None
    category: str | None = None
    layer: str | None = None
    overdue: bool | None = None
    min_age_hours: float | None = None
    search: str | None = None
    mine: bool = False
    sort: str = "age"
    search_is_id: bool = False  # set by `resolved`: the search text is a report's id
    search_places: list[list[int]] | None = None  # set by `resolved`: the jurisdictions each word names

    def resolved(self, session: Session) -> "QueueQuery":
        """The query with its search looked up: a report id (then one index lookup), or the places it names."""
        words = filters.search_words(self.search)
        if not words:
            return self
        if len(words) == 1 and session.scalar(text("SELECT 1 FROM reports WHERE public_id = :p"), {"p": words[0]}):
            return replace(self, search_is_id=True)
        probe = filters.search(filters.Where(), self.search)
        named = [
            list(session.scalars(text(filters.PLACE_NAMED_SQL.format(i=i)), probe.params)) for i in range(len(words))
        ]
        return replace(self, search_places=named)

    def where(self, actor: Actor, office: Office) -> filters.Where:
        """The WHERE clause of this office's reports matching the filters."""
        if self.sort not in SORTS:
            raise InvalidInput(f"sort by one of {', '.join(SORTS)}", field="sort")
        where = filters.office(filters.Where(), office.id)
        filters.statuses(where, self.statuses)
        filters.open_or_closed(where, self.open)
        filters.categories(where, [self.category] if self.category else None)
        filters.layer(where, self.layer)
        filters.older_than_hours(where, self.min_age_hours)
        filters.overdue(where, self.overdue, open_only=self.open is True)
        filters.search(where, self.search, is_id=self.search_is_id, places=self.search_places)
        if self.mine:
            where.add("r.assigned_to = :me", me=actor.user_id)
        return where


def _office_for(session: Session, actor: Actor, office_slug: str) -> Office:
    office: Office = get_office_or_raise(session, slug=office_slug)
    if not (actor.is_admin or (actor.role in ("manager", "staff") and actor.office_id == office.id)):
        raise Forbidden("this is another office's queue")
    return office


# Kept by triggers on reports (migration 0013): no count over an office's reports on every page.
COUNTS_SQL = "SELECT status, reports FROM office_status_counts WHERE office_id = :office AND reports > 0"


def page_statement(
    query: QueueQuery, *, actor: Actor, office: Office, page: int, page_size: int
) -> tuple[str, dict[str, Any]]:
    """The SQL of one page of the queue and its parameters (bench/queues.py times it bare)."""
    where = query.where(actor, office)
    limit = max(1, min(page_size, MAX_PAGE_SIZE))
    params = where.params | {"limit": limit + 1, "offset": (max(page, 1) - 1) * limit}
    # Fixed clauses and an allow-listed ORDER BY; every value is a bound parameter. One row more than the
    # page says whether there is a next page, without counting every match.
    sql = (
        f"SELECT {ROW_COLUMNS}, {THUMBNAIL_SQL} {FROM_SQL} WHERE {where.sql()} "
        f"ORDER BY {SORTS[query.sort]} LIMIT :limit OFFSET :offset"
    )
    return sql, params


def office_queue(
    session: Session,
    *,
    actor: Actor,
    office_slug: str,
    query: QueueQuery,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> dict[str, Any]:
    """One page of the office's reports, with counts per status; its own people and administrators only."""
    office = _office_for(session, actor, office_slug)
    query = query.resolved(session)
    sql, params = page_statement(query, actor=actor, office=office, page=page, page_size=page_size)
    limit = params["limit"] - 1
    rows = [_with_place(row) for row in session.execute(text(sql), params).mappings()]
    counts: dict[str, int] = dict(session.execute(text(COUNTS_SQL), {"office": office.id}).all())
    return {
        "office": office.slug,
        "office_name": {"ko": office.name_ko, "en": office.name_en},
        "counts": counts,
        "page": max(page, 1),
        "page_size": limit,
        "has_more": len(rows) > limit,
        "reports": rows[:limit],
    }


def office_points(session: Session, *, actor: Actor, office_slug: str, query: QueueQuery) -> dict[str, Any]:
    """Where the matching reports are, for the desk's map: up to MAP_POINTS, and whether there are more."""
    office = _office_for(session, actor, office_slug)
    where = query.resolved(session).where(actor, office)
    sql = (
        "SELECT r.public_id AS id, r.status, ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, "
        f"{report_status.overdue_sql('r', 'c')} AS overdue {FROM_SQL} WHERE {where.sql()} "
        f"ORDER BY {SORTS[query.sort]} LIMIT :limit"
    )
    rows = [dict(row) for row in session.execute(text(sql), where.params | {"limit": MAP_POINTS + 1}).mappings()]
    return {"points": rows[:MAP_POINTS], "more": len(rows) > MAP_POINTS}


def office_csv(*, actor: Actor, office_slug: str, query: QueueQuery) -> Iterator[str]:
    """The whole filtered queue as CSV text, a chunk at a time from a server-side cursor: memory stays flat.

    The office and the actor are checked before the first chunk, so a refusal is still an error answer.
    """
    with transaction() as session:
        office = _office_for(session, actor, office_slug)
        where = query.resolved(session).where(actor, office)
    sql = f"SELECT {ROW_COLUMNS} {FROM_SQL} WHERE {where.sql()} ORDER BY {SORTS[query.sort]}"

    def chunks() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        out.write("\ufeff")  # BOM: Excel reads Korean
        writer.writeheader()
        with transaction() as session:
            # A server-side cursor: rows arrive a batch at a time, never all at once.
            result = session.execute(
                text(sql), where.params, execution_options={"stream_results": True, "max_row_buffer": CSV_BATCH}
            )
            for batch in result.mappings().partitions(CSV_BATCH):
                for row in batch:
                    item = _with_place(row)
                    writer.writerow({key: safe_cell(item.get(key)) for key in CSV_COLUMNS})
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        if out.tell():
            yield out.getvalue()

    return chunks()


def triage_queue(session: Session, *, actor: Actor, page: int = 1, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """Reports the routing could not place, oldest first, with the reason; for triage staff and administrators."""
    if actor.role not in ("admin", "triage"):
        raise Forbidden("the triage queue is for triage staff")
    limit = max(1, min(page_size, MAX_PAGE_SIZE))
    rows = [
        _with_place(row)
        for row in session.execute(
            text(TRIAGE_SQL), {"limit": limit + 1, "offset": (max(page, 1) - 1) * limit}
        ).mappings()
    ]
    return {"page": max(page, 1), "has_more": len(rows) > limit, "reports": rows[:limit]}


def _with_place(row: Any) -> dict[str, Any]:
    """A queue row with its place named in both languages (place_ko, place_en); district and dong kept."""
    names = places.place_of_row(row) or {}
    return {k: v for k, v in row.items() if k not in ("city_ko", "city_en")} | {
        "place_ko": names.get("ko"),
        "place_en": names.get("en"),
    }
