"""HTTP for the public indicators: GET /api/stats."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from mapapp.core.db import get_engine
from mapapp.core.deps import SessionDep
from mapapp.stats import schemas, service

router = APIRouter(prefix="/api/stats", tags=["stats"])


@router.get(
    "",
    response_model=schemas.StatsPublic,
    response_model_by_alias=True,
    summary="Public indicators of the city, a district or an office over a period",
)
def get_stats(
    session: SessionDep,
    scope: Annotated[str, Query(pattern="^(city|district|office)$")] = "city",
    code: Annotated[str | None, Query(description="district code or office slug (city: optional)")] = None,
    from_: Annotated[date | None, Query(alias="from", description="first day (default: 29 days before `to`)")] = None,
    to: Annotated[date | None, Query(description="last day, included (default: today in the city's zone)")] = None,
) -> JSONResponse:
    """Received, resolved, closed by reason, open; times to acknowledge and resolve; share within target;
    the backlog day by day; breakdowns by layer, category and channel; and every district's figures.

    Computed in SQL from the reports and their events, through a view rebuilt every few minutes: `freshness.as_of`
    says up to when the figures count.
    """
    found = service.get_scope(session, kind=scope, code=code)
    start, end = service.get_period(from_, to)
    figures = service.indicators(session, scope=found, start=start, end=end)
    if figures["freshness"]["stale"]:
        service.refresh_in_background(get_engine())
    # Shaped once in the service and validated by its tests; sent as it is (the model documents it).
    return JSONResponse(figures)
