"""HTTP for vector tiles: the tiles, their TileJSON, and the caching headers."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from mapapp.core import replica
from mapapp.core.deps import PublicReadSessionDep
from mapapp.tiles import service
from mapapp.web import city

router = APIRouter(prefix="/tiles", tags=["tiles"])

StatusQuery = Annotated[list[str] | None, Query(description="status or group (open, in_progress, resolved, closed)")]
SinceQuery = Annotated[datetime | None, Query(description="only reports changed since (ISO 8601)")]


@router.get("/{layer}.json", summary="TileJSON of a layer's report tiles")
def layer_tilejson(request: Request, session: PublicReadSessionDep, layer: str) -> dict[str, Any]:
    """TileJSON 3.0.0: the tile URL (with this request's filters), zooms, the city's bounds, the layers."""
    return service.tilejson(session, layer=layer, query=request.url.query, bounds=city.extent(session))


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    summary="A vector tile of a layer's reports",
    response_class=Response,
    responses={
        200: {"content": {service.MVT_MEDIA_TYPE: {}}, "description": "Mapbox Vector Tile"},
        304: {"description": "The copy named in If-None-Match is current"},
    },
)
def layer_tile(
    request: Request,
    session: PublicReadSessionDep,
    layer: str,
    z: int,
    x: int,
    y: int,
    status: StatusQuery = None,
    category: str | None = None,
    since: SinceQuery = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Reports as points from the street zooms up; below, clusters with their true counts per status group."""
    tile_filters = service.TileFilters(statuses=service.expand_statuses(status), category=category or None, since=since)
    # A citizen who has just submitted, or a client revalidating, gets the layer's version from the database.
    fresh = replica.wants_current(request.headers.get("cache-control"), request.cookies)
    tile = service.get_tile(
        session, layer=layer, z=z, x=x, y=y, tile_filters=tile_filters, if_none_match=if_none_match, fresh=fresh
    )
    if tile.body is None:
        return Response(status_code=304, headers=service.response_headers(tile))
    return Response(tile.body, headers=service.response_headers(tile))
