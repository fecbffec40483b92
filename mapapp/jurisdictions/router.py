"""HTTP: district outlines for the map."""

from fastapi import APIRouter
from fastapi.responses import Response

from mapapp.core.deps import SessionDep
from mapapp.jurisdictions import service

router = APIRouter(prefix="/api/jurisdictions", tags=["jurisdictions"])


@router.get("/districts", summary="District outlines (GeoJSON)", response_class=Response)
def districts(session: SessionDep, code: str | None = None) -> Response:
    """Every current district, or one (`code`), simplified for display."""
    return Response(service.districts_geojson(session, code=code), media_type="application/geo+json")
