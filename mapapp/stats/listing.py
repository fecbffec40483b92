"""The public list of reports: filtered like the map (reports.filters), searched by text and place, paged.

Only public fields are selected: never the reporter's contact, photo GPS or private notes.
"""

import base64
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import status as report_status
from mapapp.core import visibility
from mapapp.core.errors import InvalidInput
from mapapp.jurisdictions import places
from mapapp.reports import filters
from mapapp.reports.queries import FROM_SQL

PAGE_SIZE = 20
MAX_QUERY = 100


def _cursor(report_id: int) -> str:
    return base64.urlsafe_b64encode(str(report_id).encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("the cursor is not one this server gave out", field="cursor") from None


def search(where: filters.Where, query: str | None) -> filters.Where:
    """Reports whose description or typed address contains `query`, or that lie in a district or dong so named."""
    if not query or not query.strip():
        return where
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"search for at most {MAX_QUERY} characters", field="q")
    # The citizen's words are matched literally: % and _ are not wildcards here.
    pattern = "%" + query.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    named = "SELECT id FROM jurisdictions WHERE name_ko ILIKE :q OR name_en ILIKE :q"
    return where.add(
        f"(r.description ILIKE :q OR r.address ILIKE :q OR r.district_id IN ({named}) OR r.dong_id IN ({named}))",
        q=pattern,
    )


def list_reports(
    session: Session,
    *,
    layer: str | None = None,
    category: str | None = None,
    status: str | None = None,
    query: str | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """One page of public reports, newest first, and the cursor of the next page (None on the last)."""
    where = filters.Where(params={"limit": PAGE_SIZE + 1}).add(visibility.report_public_sql("r"))
    filters.shown_on_layer(where, layer)
    filters.categories(where, [category] if category else None)
    filters.statuses(where, [status] if status else None)
    search(where, query)
    if cursor:
        where.add("r.id < :after", after=_after(cursor))
    sql = f"""
        SELECT r.id, r.public_id, c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en,
               r.status, {report_status.group_sql("r.status")} AS status_group, left(r.description, 200) AS description,
               r.created_at, r.support_count, r.address, {places.REPORT_PLACE_COLUMNS}
        {FROM_SQL}{places.REPORT_PLACE_JOINS}
        WHERE {where.sql()}
        ORDER BY r.id DESC
        LIMIT :limit
    """
    rows = [dict(r) for r in session.execute(text(sql), where.params).mappings()]
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    for row in rows:
        row["place"] = places.place_of_row(row)
    return {"reports": rows, "next": _cursor(rows[-1]["id"]) if more else None}
