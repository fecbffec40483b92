"""An office's queue and the triage queue, built in SQL, for the people allowed to see them."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import status as report_status
from mapapp.core.actors import Actor, Forbidden
from mapapp.jurisdictions import places
from mapapp.offices.models import Office
from mapapp.offices.service import get_office_or_raise
from mapapp.reports import filters

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
    "description",
)
SORTS = {"age": "r.created_at ASC", "newest": "r.created_at DESC", "priority": "due_at ASC"}
QUEUE_SQL = f"""
    SELECT r.public_id AS id, r.status, c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en,
           l.slug AS layer, r.description, r.created_at, r.support_count AS supporters,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, r.location_flag,
           {report_status.due_at_sql("r", "c")} AS due_at, {report_status.overdue_sql("r", "c")} AS overdue,
           r.address, r.location_precision, {places.REPORT_PLACE_COLUMNS}
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
    {places.REPORT_PLACE_JOINS}
"""  # noqa: S608 - fixed fragments, no values


TRIAGE_SQL = f"""
    SELECT r.public_id AS id, d.reason_code, r.status, c.slug AS category, c.name_ko AS category_ko,
           c.name_en AS category_en, l.slug AS layer, r.description, r.created_at, r.support_count AS supporters,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, r.location_flag,
           r.address, r.location_precision, {places.REPORT_PLACE_COLUMNS}
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
    {places.REPORT_PLACE_JOINS}
    LEFT JOIN LATERAL (SELECT reason_code FROM routing_decisions WHERE report_id = r.id
                       ORDER BY id DESC LIMIT 1) d ON true
    WHERE {report_status.is_sql("r.status", "triage")}
    ORDER BY r.created_at
    LIMIT 500
"""  # noqa: S608 - fixed fragments, no values


def office_queue(
    session: Session,
    *,
    actor: Actor,
    office_slug: str,
    statuses: list[str] | None = None,
    category: str | None = None,
    layer: str | None = None,
    overdue: bool | None = None,
    min_age_hours: float | None = None,
    sort: str = "age",
    limit: int = 500,
) -> dict[str, Any]:
    """The office's reports with counts per status; its own people and administrators only."""
    office: Office = get_office_or_raise(session, slug=office_slug)
    if not (actor.is_admin or (actor.role in ("manager", "staff") and actor.office_id == office.id)):
        raise Forbidden("this is another office's queue")
    if sort not in SORTS:
        sort = "age"
    where = filters.office(filters.Where(params={"limit": limit}), office.id)
    filters.statuses(where, statuses)
    filters.categories(where, [category] if category else None)
    filters.layer(where, layer)
    filters.older_than_hours(where, min_age_hours)
    filters.overdue(where, overdue)
    # Fixed clauses and an allow-listed ORDER BY; every value is a bound parameter.
    sql = QUEUE_SQL + " WHERE " + where.sql() + f" ORDER BY {SORTS[sort]} LIMIT :limit"
    items = [_with_place(row) for row in session.execute(text(sql), where.params).mappings()]
    counts: dict[str, int] = dict(
        session.execute(
            text("SELECT status, count(*) FROM reports WHERE office_id = :office GROUP BY status"),
            {"office": office.id},
        ).all()
    )
    return {"office": office.slug, "counts": counts, "reports": items}


def triage_queue(session: Session, *, actor: Actor) -> dict[str, Any]:
    """Reports the routing could not place, with the reason; for triage staff and administrators."""
    if actor.role not in ("admin", "triage"):
        raise Forbidden("the triage queue is for triage staff")
    sql = TRIAGE_SQL
    return {"reports": [_with_place(row) for row in session.execute(text(sql)).mappings()]}


def _with_place(row: Any) -> dict[str, Any]:
    """A queue row with its place named in both languages (place_ko, place_en) instead of its parts."""
    names = places.place_of_row(row) or {}
    parts = ("district_ko", "district_en", "dong_ko", "dong_en", "city_ko", "city_en")
    return {k: v for k, v in row.items() if k not in parts} | {"place_ko": names.get("ko"), "place_en": names.get("en")}
