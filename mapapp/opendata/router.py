"""HTTP for open data: every public field of the reports that match the map's filters, as CSV or GeoJSON."""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from mapapp.core import openapi
from mapapp.core.deps import SessionDep
from mapapp.feeds import service as feeds
from mapapp.feeds.scope import Scope, near_or_none
from mapapp.opendata import service
from mapapp.reports import filters, queries

router = APIRouter(prefix="/api/opendata", tags=["open data"])


def _scope(
    session: SessionDep,
    bbox: Annotated[str | None, Query(description="west,south,east,north (WGS84)")] = None,
    layer: Annotated[str | None, Query(description="a layer slug, as on the map")] = None,
    category: str | None = None,
    status: Annotated[list[str] | None, Query(description="status or group (open, in_progress, …)")] = None,
    since: Annotated[datetime | None, Query(description="only reports changed since (ISO 8601)")] = None,
    district: Annotated[str | None, Query(description="a district code")] = None,
    office: Annotated[str | None, Query(description="an office slug")] = None,
    lat: float | None = None,
    lon: float | None = None,
    radius: Annotated[float | None, Query(description="metres, with lat and lon")] = None,
) -> Scope:
    scope = Scope(
        layer=layer,
        category=category,
        statuses=status,
        bbox=queries.parse_bbox(bbox),
        since=since,
        district=district,
        office=office,
        near=near_or_none(lat, lon, radius),
    )
    # Every name checked and every value parsed before the first byte goes out: a bad filter is a 4xx.
    filters.check_statuses(status)
    feeds.scope_label(session, scope, locale="en")
    return scope


def _download(chunks: Iterator[bytes], media_type: str, filename: str) -> StreamingResponse:
    return StreamingResponse(
        chunks, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/reports.csv",
    summary="Open data: reports as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a header row, oldest first"}},
)
def reports_csv(scope: Annotated[Scope, Depends(_scope)]) -> StreamingResponse:
    """The public fields of every matching report, streamed (any number of rows). Text cells that a
    spreadsheet would run as a formula (=, +, -, @, tab, CR) start with a single quote."""
    return _download(service.csv_chunks(scope), "text/csv; charset=utf-8", "reports.csv")


@router.get(
    "/reports.geojson",
    summary="Open data: reports as GeoJSON",
    response_class=StreamingResponse,
    responses={200: {"content": {openapi.GEOJSON: {}}, "description": "An RFC 7946 FeatureCollection"}},
)
def reports_geojson(scope: Annotated[Scope, Depends(_scope)]) -> StreamingResponse:
    """The public fields of every matching report as one FeatureCollection, streamed (any number of rows)."""
    return _download(service.geojson_chunks(scope), openapi.GEOJSON, "reports.geojson")
