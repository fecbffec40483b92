"""HTTP for feeds: Atom of new and resolved reports per scope, the CAP 1.2 alerts, and their Atom index."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mapapp.core.deps import SessionDep, page_locale
from mapapp.feeds import cap, service
from mapapp.feeds.scope import Scope, near_or_none

router = APIRouter(prefix="/feeds", tags=["feeds"])
CACHE = {"Cache-Control": "public, max-age=60"}


def _public(request: Request) -> str:
    """This request's address on the public base URL (feeds name themselves by it, behind any proxy)."""
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{service.base_url()}{request.url.path}{query}"


@router.get(
    "/reports.atom",
    summary="Atom feed of new and resolved reports",
    response_class=Response,
    responses={200: {"content": {service.ATOM: {}}, "description": "An Atom 1.0 feed (RFC 4287), newest first"}},
)
def reports_feed(
    request: Request,
    session: SessionDep,
    layer: Annotated[str | None, Query(description="a layer slug, e.g. flood")] = None,
    category: Annotated[str | None, Query(description="a category slug")] = None,
    district: Annotated[str | None, Query(description="a district code, e.g. 11440")] = None,
    office: Annotated[str | None, Query(description="an office slug, e.g. 11440-roads")] = None,
    lat: Annotated[float | None, Query(description="with lon and radius: around a point")] = None,
    lon: float | None = None,
    radius: Annotated[float | None, Query(description="metres, 1 to 5000")] = None,
    kind: Annotated[service.Kind, Query(description="which entries")] = "all",
    lang: Annotated[str | None, Query(description="ko or en")] = None,
) -> Response:
    """The newest 50 arrivals and resolutions in a layer, a category, a district, an office or around a point
    (any combination), public fields only. Each entry links to the report's page and carries its point (GeoRSS)."""
    locale = page_locale(request, lang)
    scope = Scope(layer=layer, category=category, district=district, office=office, near=near_or_none(lat, lon, radius))
    alternate = f"{service.base_url()}/" + (f"?layer={layer}" if layer else "")
    body = service.atom_feed(
        session,
        scope,
        kind=kind,
        locale=locale,
        self_url=_public(request),
        alternate_url=alternate,
    )
    return Response(body, media_type=service.ATOM, headers=CACHE)


@router.get(
    "/cap.atom",
    summary="Atom index of the CAP 1.2 alerts in effect",
    response_class=Response,
    responses={200: {"content": {service.ATOM: {}}, "description": "One entry per active disaster layer"}},
)
def cap_index(request: Request, session: SessionDep, lang: str | None = None) -> Response:
    """One entry per disaster layer that is on now, linking to its CAP 1.2 alert; empty when none is."""
    body = service.cap_index(session, locale=page_locale(request, lang), self_url=_public(request))
    return Response(body, media_type=service.ATOM, headers=CACHE)


@router.get(
    "/cap/{layer}.xml",
    summary="CAP 1.2 alert of an active disaster layer",
    response_class=Response,
    responses={
        200: {"content": {cap.CAP_TYPE: {}}, "description": "An OASIS CAP 1.2 alert, Korean and English"},
        404: {"description": "no_active_alert: the layer is not a disaster layer that is on now"},
    },
)
def cap_alert(session: SessionDep, layer: str) -> Response:
    """The layer's state and banner in Korean and English, the area as the polygons of the city's districts."""
    return Response(cap.cap_alert(session, slug=layer), media_type=cap.CAP_TYPE, headers=CACHE)
