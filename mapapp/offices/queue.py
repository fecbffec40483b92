"""An office's queue and the triage queue, built in SQL, for the people allowed to see them."""

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.accounts.service import Actor, Forbidden
from mapapp.offices.models import Office
from mapapp.offices.service import get_office_or_raise

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
    "description",
)
SORTS = {"age": "r.created_at ASC", "newest": "r.created_at DESC", "priority": "due_at ASC"}
QUEUE_SQL = """
    SELECT r.public_id AS id, r.status, c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en,
           l.slug AS layer, r.description, r.created_at, r.support_count AS supporters,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, r.location_flag,
           r.created_at + make_interval(hours => c.response_hours) AS due_at,
           (r.status NOT IN ('resolved', 'closed')
            AND r.created_at + make_interval(hours => c.response_hours) < now()) AS overdue
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
"""


TRIAGE_SQL = """
    SELECT r.public_id AS id, d.reason_code, r.status, c.slug AS category, c.name_ko AS category_ko,
           c.name_en AS category_en, l.slug AS layer, r.description, r.created_at, r.support_count AS supporters,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, r.location_flag
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
    LEFT JOIN LATERAL (SELECT reason_code FROM routing_decisions WHERE report_id = r.id
                       ORDER BY id DESC LIMIT 1) d ON true
    WHERE r.status = 'triage'
    ORDER BY r.created_at
    LIMIT 500
"""


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
    where = ["r.office_id = :office"]
    params: dict[str, Any] = {"office": office.id, "limit": limit}
    if statuses:
        where.append("r.status = ANY(:statuses)")
        params["statuses"] = statuses
    if category:
        where.append("c.slug = :category")
        params["category"] = category
    if layer:
        where.append("l.slug = :layer")
        params["layer"] = layer
    if min_age_hours is not None:
        where.append("r.created_at <= now() - make_interval(secs => :min_age * 3600)")
        params["min_age"] = min_age_hours
    if overdue is not None:
        where.append(
            "(r.status NOT IN ('resolved', 'closed') AND r.created_at + "
            "make_interval(hours => c.response_hours) < now()) = :overdue"
        )
        params["overdue"] = overdue
    # Fixed clauses and an allow-listed ORDER BY; every value is a bound parameter.
    sql = QUEUE_SQL + " WHERE " + " AND ".join(where) + f" ORDER BY {SORTS[sort]} LIMIT :limit"
    items = [dict(row) for row in session.execute(text(sql), params).mappings()]
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
    return {"reports": [dict(row) for row in session.execute(text(sql)).mappings()]}
