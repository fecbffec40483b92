"""HTTP for Open311 GeoReport v2 under /open311/v2/, in .json and .xml, with the spec's errors."""

import json
import re
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mapapp import __version__
from mapapp.core.db import transaction
from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.open311 import service
from mapapp.ratelimit.deps import limit_by_client

router = APIRouter(prefix="/open311/v2", tags=["open311"])
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Characters XML 1.0 cannot carry (C0 controls but tab, LF, CR; surrogates; U+FFFE/FFFF): dropped from text.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_value(parent: ET.Element, name: str, value: Any, item: str) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, list):
        for entry in value:
            _xml_value(node, item, entry, item)
    elif isinstance(value, dict):
        for key, inner in value.items():
            _xml_value(node, key, inner, "attribute" if key == "attributes" else "value")
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
            child_item = {"attributes": "attribute", "values": "value", "formats": "format", "endpoints": "endpoint"}
            _xml_value(node, key, value, child_item.get(key, "item"))
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


async def _answer(fmt: str, root: str, item: str, work: Callable[[], Any], status: int = 200) -> Response:
    if fmt not in FORMATS:
        return _error("xml", service.NotFound311(f"format {fmt!r} is not offered; use .xml or .json"))
    try:
        data = await run_in_threadpool(work)
    except DomainError as exc:
        return _error(fmt, exc)
    return render(fmt, root, item, data, status)


def _read(fn: Callable[..., Any], jurisdiction_id: str | None, **kwargs: Any) -> Callable[[], Any]:
    def work() -> Any:
        service.check_jurisdiction(jurisdiction_id)
        with transaction() as session:
            return fn(session, **kwargs)

    return work


@router.get("/discovery.{fmt}", summary="Service discovery")
async def discovery(fmt: str, request: Request) -> Response:
    base = get_settings().public_base_url.rstrip("/")
    data = {
        "changeset": __version__,
        "contact": "mapapp operators",
        "key_service": "Ask the city administrator for an API key (mapapp apikeys create NAME)",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": f"{base}/open311/v2",
                "changeset": __version__,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return await _answer(fmt, "discovery", "discovery", lambda: data)


@router.get("/services.{fmt}", summary="Service list (categories of the active layers)")
async def services(fmt: str, jurisdiction_id: str | None = None, locale: str = "en") -> Response:
    return await _answer(fmt, "services", "service", _read(service.service_list, jurisdiction_id, locale=locale))


@router.get("/services/{service_code}.{fmt}", summary="Service definition")
async def definition(service_code: str, fmt: str, jurisdiction_id: str | None = None) -> Response:
    work = _read(service.service_definition, jurisdiction_id, service_code=service_code)
    return await _answer(fmt, "service_definition", "service_definition", work)


@router.get("/requests.{fmt}", summary="Service requests")
async def requests(
    fmt: str,
    jurisdiction_id: str | None = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    locale: str = "en",
) -> Response:
    work = _read(
        service.service_requests,
        jurisdiction_id,
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        locale=locale,
    )
    return await _answer(fmt, "service_requests", "request", work)


@router.get("/requests/{service_request_id}.{fmt}", summary="One service request (an array of one)")
@router.get("/request/{service_request_id}.{fmt}", include_in_schema=False)  # the v2.1 draft's singular path
async def one_request(
    service_request_id: str, fmt: str, jurisdiction_id: str | None = None, locale: str = "en"
) -> Response:
    work = _read(service.service_request, jurisdiction_id, service_request_id=service_request_id, locale=locale)
    return await _answer(fmt, "service_requests", "request", work)


@router.get("/tokens/{token_id}.{fmt}", summary="Service request id from a token")
async def tokens(token_id: str, fmt: str, jurisdiction_id: str | None = None) -> Response:
    return await _answer(fmt, "service_requests", "request", _read(service.token, jurisdiction_id, token_id=token_id))


@router.post(
    "/requests.{fmt}",
    summary="Post a service request (API key required)",
    dependencies=[limit_by_client("open311", "service requests")],
)
async def post_request(fmt: str, request: Request) -> Response:
    """Form-encoded, as the spec says: api_key, service_code, lat and long (or address_string), ..."""
    try:
        form = await request.form(max_files=0, max_fields=60)
    except Exception:  # a body the form parser cannot read is a bad request, not a crash
        return _error(fmt, service.BadRequest("the body must be application/x-www-form-urlencoded"))
    fields = {k: (v if isinstance(v, str) else None) for k, v in form.items()}

    def work() -> Any:
        with transaction() as session:
            return service.create_service_request(session, form=fields)

    return await _answer(fmt, "service_requests", "request", work, status=201)
