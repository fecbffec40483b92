"""HTTP for Open311 GeoReport v2 under /open311/v2/ (discovery also at /open311/), .json and .xml, the spec's errors."""

import json
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mapapp.core import i18n, replica
from mapapp.core.db import read_transaction, transaction
from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.open311 import service
from mapapp.ratelimit.deps import limit_by_client

router = APIRouter(prefix="/open311", tags=["open311"])
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; surrogates; U+FFFE/FFFF): dropped from text.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The spec's XML names each list's entries after the list, at any depth (DC's discovery: formats/format).
ITEM_NAMES = {"attributes": "attribute", "values": "value", "formats": "format", "endpoints": "endpoint"}
PAGING_DOC = (
    "Paged as Chicago's and Boston's endpoints do (the Open311 pagination extension): `page` (from 1) and "
    f"`page_size` (1 to {service.MAX_PAGE_SIZE}, default {service.DEFAULT_PAGE_SIZE}, the spec's first 1000). "
    'When more requests match, the answer carries `Link: <…&page=N+1>; rel="next"` (and rel="prev" after '
    "page 1); the next link pins the date window, so new requests do not shift later pages. "
    "Dates are W3C datetimes with Z or ±HH:MM. Without dates the window is the last 90 days; end_date alone "
    "means the 90 days before it, start_date alone the 90 days after it; a span over 90 days is refused with 400."
)
LOCALE_DOC = "ko or en (ko_KR, en-US accepted); without it, Accept-Language, else the city's default language."


def _xml_value(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, list):
        for entry in value:
            _xml_value(node, ITEM_NAMES.get(name, "item"), entry)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(node, key, inner)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = NOT_XML.sub("", str(value))


def render(fmt: str, root: str, item: str, data: Any, status: int = 200) -> Response:
    """JSON as the spec's Spark mapping (a list, or an object), or XML with the UTF-8 declaration."""
    if fmt == "json":
        return Response(json.dumps(data, ensure_ascii=False), status_code=status, media_type=FORMATS["json"])
    top = ET.Element(root)
    entries = data if isinstance(data, list) else [data]
    for entry in entries:
        node = ET.SubElement(top, item) if isinstance(data, list) else top
        for key, value in entry.items():
            _xml_value(node, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(top, encoding="utf-8")
    return Response(body, status_code=status, media_type=FORMATS["xml"])


def _error(fmt: str, exc: DomainError) -> Response:
    # The spec names 400, 403 and 404; a wrong method, a body too large, a rate limit, an outage or a bug
    # keep their own status (and Retry-After) so that clients know to retry rather than to fix their request.
    status = exc.status if exc.status in (403, 404, 405, 413, 429) or exc.status >= 500 else 400
    response = render(
        fmt if fmt in FORMATS else "xml",
        "errors",
        "error",
        [{"code": status, "description": exc.message}],
        status=status,
    )
    response.headers.update(exc.headers())
    return response


def error_answer(path: str, exc: DomainError) -> Response:
    """Any error on an /open311/ path in the spec's shape, in the format the path names (XML by default)."""
    return _error("json" if path.endswith(".json") else "xml", exc)


def request_locale(request: Request, asked: str | None) -> str:
    """The `locale` parameter, else the best Accept-Language we speak, else the city's default language."""
    tags: list[tuple[float, int, str]] = []
    for position, part in enumerate((request.headers.get("accept-language") or "").split(",")):
        tag, _, params = part.partition(";")
        quality = params.strip().removeprefix("q=")
        try:
            weight = float(quality) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        if weight > 0:
            tags.append((-weight, position, tag))
    for tag in [asked or ""] + [tag for *_, tag in sorted(tags)]:
        language = tag.strip().replace("_", "-").split("-")[0].lower()
        if language in i18n.LOCALES:
            return language
    default = getattr(get_settings(), "default_locale", "ko")
    return default if default in i18n.LOCALES else "ko"


async def _answer(
    fmt: str,
    root: str,
    item: str,
    work: Callable[[], Any],
    status: int = 200,
    unpack: Callable[[Any], tuple[Any, dict[str, str]]] | None = None,
) -> Response:
    if fmt not in FORMATS:
        return _error("xml", service.NotFound311(f"format {fmt!r} is not offered; use .xml or .json"))
    try:
        data = await run_in_threadpool(work)
    except DomainError as exc:
        return _error(fmt, exc)
    body, headers = unpack(data) if unpack else (data, {})
    response = render(fmt, root, item, body, status)
    response.headers.update(headers)
    return response


def _read(fn: Callable[..., Any], jurisdiction_id: str | None, **kwargs: Any) -> Callable[[], Any]:
    def work() -> Any:
        service.check_jurisdiction(jurisdiction_id)
        with read_transaction(replica.public_read_url()) as session:  # GET only: the replica when fresh (issue 14)
            return fn(session, **kwargs)

    return work


@router.get("/discovery.{fmt}", summary="Service discovery (as DC's and Boston's documents)")
@router.get("/v2/discovery.{fmt}", include_in_schema=False)  # where earlier versions served it
async def discovery(fmt: str) -> Response:
    base = get_settings().public_base_url.rstrip("/")
    return await _answer(fmt, "discovery", "discovery", _read(service.discovery, None, base_url=base))


@router.get("/v2/services.{fmt}", summary="Service list (categories of the active layers)", description=LOCALE_DOC)
async def services(
    request: Request, fmt: str, jurisdiction_id: str | None = None, locale: str | None = None
) -> Response:
    work = _read(service.service_list, jurisdiction_id, locale=request_locale(request, locale))
    return await _answer(fmt, "services", "service", work)


@router.get("/v2/services/{service_code}.{fmt}", summary="Service definition")
async def definition(service_code: str, fmt: str, jurisdiction_id: str | None = None) -> Response:
    work = _read(service.service_definition, jurisdiction_id, service_code=service_code)
    return await _answer(fmt, "service_definition", "service_definition", work)


def _page_links(request: Request) -> Callable[[service.RequestPage], tuple[Any, dict[str, str]]]:
    def unpack(page: service.RequestPage) -> tuple[Any, dict[str, str]]:
        links = []
        # Later pages keep the window this page was cut from, so requests arriving meanwhile shift nothing.
        window = {"start_date": page.start, "end_date": page.end} if page.start and page.end else {}
        if page.has_more:
            links.append(f'<{request.url.include_query_params(**window, page=page.page + 1)}>; rel="next"')
        if page.page > 1:
            links.append(f'<{request.url.include_query_params(**window, page=page.page - 1)}>; rel="prev"')
        return page.requests, ({"Link": ", ".join(links)} if links else {})

    return unpack


@router.get("/v2/requests.{fmt}", summary="Service requests, page by page", description=PAGING_DOC)
async def requests(
    request: Request,
    fmt: str,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    page: str | None = None,
    page_size: str | None = None,
    locale: str | None = None,
) -> Response:
    work = _read(
        service.service_requests,
        jurisdiction_id,
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        page=page,
        page_size=page_size,
        locale=request_locale(request, locale),
    )
    return await _answer(fmt, "service_requests", "request", work, unpack=_page_links(request))


@router.get("/v2/requests/{service_request_id}.{fmt}", summary="One service request (an array of one)")
@router.get("/v2/request/{service_request_id}.{fmt}", include_in_schema=False)  # the v2.1 draft's singular path
async def one_request(
    request: Request, service_request_id: str, fmt: str, jurisdiction_id: str | None = None, locale: str | None = None
) -> Response:
    locale = request_locale(request, locale)
    work = _read(service.service_request, jurisdiction_id, service_request_id=service_request_id, locale=locale)
    return await _answer(fmt, "service_requests", "request", work)


@router.get("/v2/tokens/{token_id}.{fmt}", summary="Service request id from a token")
async def tokens(token_id: str, fmt: str, jurisdiction_id: str | None = None) -> Response:
    return await _answer(fmt, "service_requests", "request", _read(service.token, jurisdiction_id, token_id=token_id))


# Clients written against older servers (the `open311` package among them) put these in the URL of the POST.
QUERY_FIELDS = ("api_key", "jurisdiction_id", "locale")


@router.post(
    "/v2/requests.{fmt}",
    summary="Post a service request (API key required)",
    description="Form-encoded, as the spec says. `api_key` and `jurisdiction_id` may also be in the query string.",
    dependencies=[limit_by_client("open311", "service requests")],
)
async def post_request(fmt: str, request: Request) -> Response:
    """Form-encoded, as the spec says: api_key, service_code, lat and long (or address_string), ..."""
    try:
        form = await request.form(max_files=0, max_fields=60)
    except Exception:  # a body the form parser cannot read is a bad request, not a crash
        return _error(fmt, service.BadRequest("the body must be application/x-www-form-urlencoded"))
    fields = {k: (v if isinstance(v, str) else None) for k, v in form.items()}
    for name in QUERY_FIELDS:  # the body wins when both carry one
        if not fields.get(name) and request.query_params.get(name):
            fields[name] = request.query_params[name]
    locale = request_locale(request, fields.get("locale"))

    def work() -> Any:
        with transaction() as session:
            return service.create_service_request(session, form=fields, locale=locale)

    return await _answer(fmt, "service_requests", "request", work, status=201)
