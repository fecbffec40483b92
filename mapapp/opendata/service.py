"""Exports of the public fields of reports, streamed from a server-side cursor.

A million rows never sit in memory: PostgreSQL keeps the result, the export fetches it a chunk at a time
and each chunk is written out before the next is fetched. The rows come from one REPEATABLE READ
snapshot, so an export is consistent however long the download takes. The filters are the map's
(reports.filters, through feeds.scope). CSV cells go through core.csv_export.safe_cell, so no
description becomes a spreadsheet formula.
"""

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import text

from mapapp.core import status as report_status
from mapapp.core.csv_export import safe_cell
from mapapp.core.db import get_engine
from mapapp.feeds.scope import Scope
from mapapp.reports import filters
from mapapp.reports.queries import FEATURE_SQL, FROM_SQL, MEDIA

CHUNK_ROWS = 2000

# The public columns, in the CSV's order. Never the reporter's contact, photo GPS or a private note.
CSV_COLUMNS: dict[str, str] = {
    "id": "r.public_id",
    "layer": "l.slug",
    "category": "c.slug",
    "category_ko": "c.name_ko",
    "category_en": "c.name_en",
    "status": "r.status",
    "status_group": report_status.group_sql("r.status"),
    "close_reason": "r.close_reason",
    "district": "d.code",
    "district_ko": "d.name_ko",
    "district_en": "d.name_en",
    "office": "o.slug",
    "office_ko": "o.name_ko",
    "office_en": "o.name_en",
    "lat": "round(ST_Y(r.geom)::numeric, 6)",
    "lon": "round(ST_X(r.geom)::numeric, 6)",
    "location_precision": "r.location_precision",
    "address": "r.address",
    "description": "r.description",
    "supporters": "r.support_count",
    "created_at": "r.created_at",
    "updated_at": "r.updated_at",
    "resolved_at": "r.resolved_at",
    "due_at": report_status.due_at_sql("r", "c"),
}


def _stream(sql: str, params: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
    """Rows of `sql` in chunks, from a named (server-side) cursor inside a read-only snapshot."""
    engine = get_engine()
    compiled = text(sql).bindparams(**params).compile(dialect=engine.dialect)
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.close()
        named: Any = dbapi.cursor(name="opendata_export")  # psycopg2's server-side cursor
        try:
            named.itersize = CHUNK_ROWS
            named.execute(str(compiled), compiled.params)
            while rows := named.fetchmany(CHUNK_ROWS):
                yield rows
        finally:
            named.close()
        conn.rollback()


def csv_chunks(scope: Scope) -> Iterator[bytes]:
    """The export as CSV (UTF-8 with a BOM, so spreadsheets read Korean), header first, chunk by chunk."""
    where = scope.where()
    columns = ", ".join(f"{expr} AS {name}" for name, expr in CSV_COLUMNS.items())
    sql = f"SELECT {columns} {FROM_SQL} WHERE {where.sql()} ORDER BY r.id"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    yield ("\ufeff" + out.getvalue()).encode()
    for rows in _stream(sql, where.params):
        out.seek(0)
        out.truncate()
        writer.writerows([safe_cell(_plain(v)) for v in row] for row in rows)
        yield out.getvalue().encode()


def _plain(value: Any) -> Any:
    # Times as ISO 8601 with their offset; everything else as the driver gives it.
    return value.isoformat() if hasattr(value, "isoformat") else value


def geojson_chunks(scope: Scope) -> Iterator[bytes]:
    """The export as one GeoJSON FeatureCollection (RFC 7946), each feature built in SQL, chunk by chunk."""
    where = scope.where(filters.Where(params={"media": MEDIA}))
    sql = f"SELECT ({FEATURE_SQL})::text {FROM_SQL} WHERE {where.sql()} ORDER BY r.id"
    yield b'{"type": "FeatureCollection", "features": [\n'
    first = True
    for rows in _stream(sql, where.params):
        body = ",\n".join(row[0] for row in rows)
        yield (body if first else ",\n" + body).encode()
        first = False
    yield b"\n]}\n"
