"""HTTP for reports: submit (multipart or JSON), public GeoJSON and detail, nearby, "me too"."""

import json
import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from mapapp import photos
from mapapp.core import caching, openapi, replica
from mapapp.core.db import transaction
from mapapp.core.deps import PublicReadSessionDep, SessionDep
from mapapp.core.errors import InvalidInput, NotFound
from mapapp.core.requests import read_json_object
from mapapp.photos import UnsupportedMediaType
from mapapp.ratelimit.deps import limit_by_client
from mapapp.reports import forms, messages, queries, service

router = APIRouter(prefix="/api/reports", tags=["reports"])

GEOJSON = openapi.GEOJSON
REPORT_FIELDS = ("layer", "category", "lat", "lon", "description", "email", "phone", "locale", "address")

SUBMIT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["layer", "category"],
                    "properties": {
                        "layer": {"type": "string", "example": "facilities"},
                        "category": {"type": "string", "example": "streetlight-out"},
                        "lat": {"type": "number", "example": 37.5663, "description": "optional when a photo has GPS"},
                        "lon": {"type": "number", "example": 126.9016},
                        "description": {"type": "string", "maxLength": 4000},
                        "email": {"type": "string", "description": "private: never shown publicly"},
                        "phone": {"type": "string", "description": "private: never shown publicly"},
                        "locale": {"type": "string", "enum": ["ko", "en"]},
                        "photos": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 5},
                    },
                }
            },
            "application/json": {
                "schema": {"type": "object", "required": ["layer", "category", "lat", "lon"]},
                "example": {
                    "layer": "facilities",
                    "category": "streetlight-out",
                    "lat": 37.5663,
                    "lon": 126.9016,
                    "description": "가로등이 꺼져 있어요",
                    "locale": "ko",
                },
            },
        },
    },
    "responses": {
        "201": {"description": "Accepted, routed (or sent to triage), with the tracking URL"},
        "409": {"description": "layer_inactive, idempotency_key_reused"},
        "413": {"description": "photo_too_large"},
        "415": {"description": "unsupported_media_type"},
        "422": {
            "description": "missing_field, unknown_layer, unknown_category, category_not_in_layer, "
            "invalid_coordinates, outside_service_area, location_required, description_too_long, "
            "too_many_photos, invalid_photo, invalid_contact"
        },
    },
}


def _submit(draft: service.ReportDraft, files: list[bytes], key: str | None) -> service.SubmittedReport:
    # The transaction commits here, before the answer is sent: a 201 means the report is stored.
    with transaction() as session:
        return service.submit_report(session, draft=draft, photo_files=files, idempotency_key=key)


async def _read_draft(request: Request) -> tuple[service.ReportDraft, list[bytes]]:
    # The body's size is limited while it streams in (mapapp.core.bodylimit), Content-Length or not.
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError):  # [[[[...: too deep for the parser
            raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
        if not isinstance(body, dict):
            raise InvalidInput("the body must be a JSON object")
        return service.ReportDraft(**{k: body.get(k) for k in REPORT_FIELDS}, channel="api"), []
    if ctype == "multipart/form-data":
        fields, files = await forms.read_multipart(request)
        return service.ReportDraft(**{k: fields.get(k) for k in REPORT_FIELDS}, channel="web"), files
    if ctype == "application/x-www-form-urlencoded":
        fields = forms.read_urlencoded(await request.body())
        return service.ReportDraft(**{k: fields.get(k) for k in REPORT_FIELDS}, channel="web"), []
    raise UnsupportedMediaType("send the report as application/json or multipart/form-data")


@router.post(
    "",
    status_code=201,
    summary="Submit a report",
    openapi_extra=SUBMIT_DOC,
    dependencies=[limit_by_client("submit", "reports")],
)
async def submit(
    request: Request,
    idempotency_key: Annotated[str | None, Header(description="Makes retries safe")] = None,
) -> JSONResponse:
    """Submit a report with up to five photos (multipart) or without photos (JSON).

    The point is the pin (`lat`/`lon`), or the first photo's GPS. The report is routed to the
    responsible office, or to triage, in the same transaction. Retrying with the same
    `Idempotency-Key` and body returns the same report.
    """
    draft, files = await _read_draft(request)
    # Cheap checks first, then the photos on the photo threads under the decode budget (503 `busy` when
    # full), all before the transaction opens: no connection is held while images decode.
    service.check_fields(draft, len(files), sum(len(f) for f in files))
    prepared = await photos.process_uploads(files)
    result = await run_in_threadpool(_submit, draft, [*prepared], idempotency_key)
    headers = {"Location": f"/api/reports/{result.public_id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    response = JSONResponse(result.to_public(), status_code=201, headers=headers)
    await run_in_threadpool(replica.remember_write, response)  # read-your-writes past a lagging replica (issue 14)
    return response


@router.get(
    "",
    summary="Reports as GeoJSON",
    response_class=Response,
    responses=openapi.feature_collection("An RFC 7946 FeatureCollection, newest first", openapi.REPORT_PROPERTIES),
)
def list_reports(
    request: Request,
    session: PublicReadSessionDep,
    bbox: Annotated[
        str | None, Query(description="west,south,east,north (WGS84)", examples=["126.9,37.5,127.1,37.6"])
    ] = None,
    layer: str | None = None,
    category: str | None = None,
    status: Annotated[
        list[str] | None, Query(description="status or group (open, in_progress, resolved, closed)")
    ] = None,
    since: Annotated[datetime | None, Query(description="only reports changed since (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIMIT)] = queries.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="from the previous page's 'next' link")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Public reports, newest first, built in SQL; follow `links[rel=next]` for the next page."""
    # Revalidation (If-None-Match) answers 304 without reading a report: the tag is the layer's version.
    fresh = replica.wants_current(request.headers.get("cache-control"), request.cookies)
    tag = queries.collection_etag(session, layer=layer, query=request.url.query, fresh=fresh)
    cache = caching.cache_headers(tag)
    if if_none_match and caching.matches(if_none_match, tag):
        return Response(status_code=304, headers=cache)
    next_url = str(request.url.remove_query_params("cursor"))
    body = queries.reports_feature_collection(
        session,
        bbox=queries.parse_bbox(bbox),
        layer=layer,
        category=category,
        statuses=status,
        since=since,
        limit=limit,
        cursor=cursor,
        next_url=next_url,
    )
    return Response(body, media_type=GEOJSON, headers=cache)


@router.get("/nearby", summary="Open reports near a point")
def nearby(
    session: PublicReadSessionDep,
    lat: float,
    lon: float,
    category: str | None = None,
    layer: str | None = None,
    radius: Annotated[float | None, Query(description="metres; default per category")] = None,
) -> dict[str, Any]:
    """Open reports of the category (or layer) within the radius, nearest first, with thumbnails."""
    return queries.nearby_reports(session, lat=lat, lon=lon, category=category, layer=layer, radius_m=radius)


@router.get("/{public_id}", summary="One report")
def get_report(session: PublicReadSessionDep, public_id: str) -> dict[str, Any]:
    """The public report: photos, status, office and the routing reason, timeline, supporters."""
    return queries.public_report(session, public_id=public_id)


def _support(public_id: str, supporter: str, email: str | None, locale: str) -> tuple[int, bool, bool]:
    with transaction() as session:
        return service.support_report(session, public_id=public_id, supporter=supporter, email=email, locale=locale)


@router.post("/{public_id}/support", summary='"Me too"', dependencies=[limit_by_client("support", '"me too"s')])
async def support(public_id: str, request: Request) -> dict[str, Any]:
    """Add a "me too" from this browser (`{"supporter": "<token>", "email"?: ..., "locale"?: "ko"|"en"}`).

    Repeating it changes nothing. With an e-mail, that address is told of the report's moves in the
    page's language (`following` says whether it is) and can unsubscribe in one click.
    """
    body = read_json_object(await request.body(), empty={})  # NUL, surrogates, NaN: 400 before any query
    supporter = body.get("supporter")
    if not isinstance(supporter, str):
        raise InvalidInput('give the supporter token: {"supporter": "..."}', field="supporter")
    email = body.get("email")
    if email is not None and not isinstance(email, str):
        raise InvalidInput("the e-mail address must be text", field="email")
    locale = "en" if body.get("locale") == "en" else "ko"
    count, added, following = await run_in_threadpool(_support, public_id, supporter, email, locale)
    return {"id": public_id, "supporters": count, "added": added, "following": following}


class UnsubscribeLinkUnknown(NotFound):
    code = "unsubscribe_link_unknown"


UNSUBSCRIBE_TOKEN = re.compile(r"^[0-9a-f]{40}$")
UNSUBSCRIBE_PAGE = {
    "ko": (
        "알림 끊기",
        "이 신고에 대한 메일을 더 받지 않으시겠습니까?",
        "메일 그만 받기",
        "이 주소로는 이 신고에 대한 메일을 더 보내지 않습니다.",
    ),
    "en": (
        "Unsubscribe",
        "Stop e-mails about this report?",
        "Stop e-mails",
        "This address gets no more e-mail about this report.",
    ),
}


def _page(locale: str, title: str, body: str) -> HTMLResponse:
    lang = "ko" if locale == "ko" else "en"
    return HTMLResponse(
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>'
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


@router.get("/unsubscribe/{token}", summary="Unsubscribe: the confirm page", response_class=HTMLResponse)
def unsubscribe_page(session: SessionDep, token: str) -> HTMLResponse:
    """A page with one button; GET changes nothing (mail scanners follow links)."""
    locale = messages.follower_locale(session, token=token) if UNSUBSCRIBE_TOKEN.match(token) else None
    if locale is None:
        raise UnsubscribeLinkUnknown("this unsubscribe link is not known")
    title, ask, button, _ = UNSUBSCRIBE_PAGE["ko" if locale == "ko" else "en"]
    form = (
        f'<p>{ask}</p><form method="post" action="/api/reports/unsubscribe/{token}">'
        f'<input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">{button}</button></form>'
    )
    return _page(locale, title, form)


@router.post("/unsubscribe/{token}", summary="Unsubscribe in one click (RFC 8058)", response_class=HTMLResponse)
def unsubscribe(session: SessionDep, token: str) -> HTMLResponse:
    """Stop all e-mail about the report to this address; repeating it changes nothing."""
    done = messages.unsubscribe(session, token=token) if UNSUBSCRIBE_TOKEN.match(token) else None
    if done is None:
        raise UnsubscribeLinkUnknown("this unsubscribe link is not known")
    public_id, locale = done
    title, _, _, said = UNSUBSCRIBE_PAGE["ko" if locale == "ko" else "en"]
    return _page(locale, title, f'<p>{said}</p><p><a href="/reports/{public_id}">{public_id}</a></p>')
