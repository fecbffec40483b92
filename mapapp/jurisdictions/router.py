"""HTTP: district outlines for the map, and the place (city, district, dong) a point lies in."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from mapapp.core import openapi
from mapapp.core.deps import PublicReadSessionDep, SessionDep
from mapapp.jurisdictions import places, service

router = APIRouter(prefix="/api/jurisdictions", tags=["jurisdictions"])
places_router = APIRouter(prefix="/api/places", tags=["jurisdictions"])


@router.get(
    "/districts",
    summary="District outlines (GeoJSON)",
    response_class=Response,
    responses=openapi.feature_collection("Current districts, simplified for display", openapi.DISTRICT_PROPERTIES),
)
def districts(session: PublicReadSessionDep, code: str | None = None) -> Response:
    """Every current district, or one (`code`), simplified for display."""
    return Response(service.districts_geojson(session, code=code), media_type="application/geo+json")


@places_router.get("", summary="The place a point lies in")
def place(
    session: SessionDep,
    lat: Annotated[float, Query(description="WGS84 latitude", examples=[37.5497])],
    lon: Annotated[float, Query(description="WGS84 longitude", examples=[126.9137])],
) -> dict[str, Any]:
    """The city, district and dong holding the point, with their Korean and English names, and the
    place's name in both ("마포구 합정동" / "Hapjeong-dong, Mapo-gu"); null where none holds it."""
    return places.place_at(session, lon=lon, lat=lat).to_public()
