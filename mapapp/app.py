"""The FastAPI application: routers mounted, the domain error table registered."""

import html
import json
import logging
import math
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from mapapp import __version__
from mapapp import models as _models  # noqa: F401  (every table known before the first query)
from mapapp.accounts.router import router as accounts_router
from mapapp.admin.router import router as admin_router
from mapapp.alerts.router import api as alerts_api
from mapapp.alerts.router import pages as alerts_pages
from mapapp.core import replica
from mapapp.core import requests as request_edge
from mapapp.core.bodylimit import BodyLimitMiddleware
from mapapp.core.db import get_engine
from mapapp.core.errors import (
    Busy,
    DatabaseUnavailable,
    DomainError,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
)
from mapapp.core.health import Health, Readiness
from mapapp.core.settings import get_settings
from mapapp.feeds.router import router as feeds_router
from mapapp.intake.router import router as intake_router
from mapapp.jurisdictions.router import places_router
from mapapp.jurisdictions.router import router as jurisdictions_router
from mapapp.layers.router import router as layers_router
from mapapp.moderation.media import WithheldMedia
from mapapp.moderation.router import router as moderation_router
from mapapp.offices.router import router as offices_router
from mapapp.open311.router import error_answer as open311_error
from mapapp.open311.router import router as open311_router
from mapapp.opendata.router import router as opendata_router
from mapapp.reports.router import router as reports_router
from mapapp.stats.router import router as stats_router
from mapapp.tiles.edge import HotTiles
from mapapp.tiles.router import router as tiles_router
from mapapp.web.router import router as web_router
from mapapp.web.security import SecurityHeadersMiddleware
from mapapp.web.stats_pages import router as stats_pages_router

log = logging.getLogger(__name__)


# Paths whose clients are programs: they always get JSON (or Open311's shape), never an HTML page.
_MACHINE_PATHS = ("/api/", "/open311/", "/static/", "/media/", "/openapi.json", "/healthz", "/readyz")


def _plain(value: Any) -> Any:
    """An error body that always serialises: a message may quote input with lone surrogates or NaN."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _plain(str(value))


def error_response(request: Request, exc: DomainError) -> Response:
    """The one place an error becomes an answer: our JSON shape; Open311's on /open311/; a page for a person."""
    path = request.url.path
    if path == "/open311" or path.startswith("/open311/"):
        return open311_error(path, exc)
    body = _plain(exc.to_body())
    if not path.startswith(_MACHINE_PATHS) and "text/html" in request.headers.get("accept", ""):
        # Someone following a link in a browser: a readable page, same status, same code.
        error = body["error"]
        page = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{exc.status}</title></head>'
            f"<body><h1>{html.escape(error['message'])}</h1><p><code>{html.escape(error['code'])}</code></p>"
            '<p><a href="/">Map / 지도</a></p></body></html>'
        )
        return HTMLResponse(page, status_code=exc.status, headers=exc.headers())
    content = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return Response(content, status_code=exc.status, media_type="application/json", headers=exc.headers())


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()]
    return error_response(request, InvalidRequest("the request is not valid", problems=problems))


# Starlette's own errors (unknown path, wrong method, unreadable form) in our shape, with the codes of our
# classes for the same answers (tests/core/test_error_codes.py holds these to the class table).
_HTTP_CODES = {
    400: "invalid_request",
    401: "not_authenticated",
    403: "forbidden",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    error: DomainError
    if exc.status_code == 404:
        error = NotFound("there is nothing at this address")
    elif exc.status_code == 405:
        # Starlette's Allow names the first route of the path only; a path may have a GET and a POST route.
        routes = request.app.router.routes
        allow = ", ".join(
            m
            for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if any(r.matches({**request.scope, "method": m})[0] == Match.FULL for r in routes)
        ) or (exc.headers or {}).get("Allow", "")
        error = MethodNotAllowed(f"{request.method} is not allowed here", allow=allow)
        exc.headers = {**(exc.headers or {}), "Allow": allow}
    else:
        error = DomainError(str(exc.detail))
        error.status = exc.status_code
        error.code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    response = error_response(request, error)
    response.headers.update(exc.headers or {})
    return response


def _database_is_down(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    # No SQLSTATE: the connection itself failed. 08: connection exception; 53: too many connections,
    # out of memory or disk; 57P0x: shut down or starting up. 57014 is a cancelled statement, not an outage.
    pgcode = getattr(exc.orig, "pgcode", None)
    return pgcode is None or pgcode[:2] in ("08", "53") or pgcode in ("57P01", "57P02", "57P03")


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if not _database_is_down(exc):
        raise exc  # a bug, not an outage: the catch-all logs it and answers 500
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, str(exc.orig).strip())
    return error_response(request, DatabaseUnavailable("the database is not available; try again shortly"))


async def _pool_exhausted(request: Request, exc: Exception) -> Response:
    log.warning("no database connection free for %s %s within the pool timeout", request.method, request.url.path)
    return error_response(request, Busy("the server is busy; try again in a few seconds"))


VENDOR = {  # URL name -> folder inside the npm package
    "leaflet": "leaflet/dist",
    "markercluster": "leaflet.markercluster/dist",
    "swagger-ui": "swagger-ui-dist",
    "exifr": "exifr/dist",
    "vector-tile": "@mapbox/vector-tile",
    "point-geometry": "@mapbox/point-geometry",
    "pbf": "pbf",
    "chartjs": "chart.js/dist",
}


def _mount_assets(app: FastAPI, static_dir: Path, vendor_dir: Path) -> None:
    for name, folder in VENDOR.items():
        path = vendor_dir / folder
        if not path.is_dir():
            log.warning("browser assets missing: %s (run `make run` or `npm ci --ignore-scripts`)", path)
            continue
        app.mount(f"/static/vendor/{name}", StaticFiles(directory=path), name=f"vendor-{name}")
    app.mount("/static", StaticFiles(directory=static_dir, check_dir=False), name="static")


def create_app() -> FastAPI:
    """Build the application; settings are validated here, at start-up."""
    get_settings()
    app = FastAPI(
        title="mapapp",
        version=__version__,
        description="Community hazard-reporting map: citizen reports routed to the responsible office.",
        docs_url=None,  # mapapp.web.router serves Swagger UI from our own origin, never a CDN, under our CSP
        redoc_url=None,
    )
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.include_router(layers_router)
    app.include_router(reports_router)
    app.include_router(open311_router)
    app.include_router(jurisdictions_router)
    app.include_router(places_router)
    app.include_router(web_router)
    app.include_router(accounts_router)
    app.include_router(offices_router)
    app.include_router(admin_router)
    app.include_router(tiles_router)
    app.include_router(moderation_router)
    app.include_router(stats_router)
    app.include_router(stats_pages_router)
    app.include_router(feeds_router)
    app.include_router(opendata_router)
    app.include_router(alerts_api)
    app.include_router(alerts_pages)
    app.include_router(intake_router)
    settings = get_settings()
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    if settings.photo_storage == "s3":  # issue 14: photos in a bucket, proxied with caching headers
        from mapapp.photos.router import media_app

        app.mount("/media", WithheldMedia(media_app), name="media")
    else:
        app.mount("/media", WithheldMedia(StaticFiles(directory=settings.media_dir)), name="media")
    _mount_assets(app, settings.static_dir, settings.vendor_dir)

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check", response_model=Health)
    def healthz() -> dict[str, str]:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="Readiness: the database answers; the outbox backlog",
        response_model=Readiness,
    )
    def readyz() -> dict[str, Any]:
        from mapapp.notify import service as outbox

        try:
            with get_engine().connect() as conn:
                backlog = outbox.backlog(conn)
        except (OperationalError, InterfaceError) as exc:
            raise DatabaseUnavailable("the database cannot be reached; try again shortly") from exc
        ready = {"status": "ok", "database": "ok", "outbox": backlog.as_dict()}
        if (replica_state := replica.readiness()) is not None:  # issue 14: the read replica's lag
            ready["replica"] = replica_state
        return ready

    # Malformed input (issue 8): HEAD as GET, unstorable URLs refused, any unexpected error a 500 in our shape.
    app.add_middleware(request_edge.HeadAsGet, router=app.router)
    app.add_middleware(request_edge.RequestGuard, render=error_response)
    app.add_middleware(request_edge.UnexpectedErrors, render=error_response)
    # Uploads (issue 8): body bytes counted as they arrive, 413 past the limit, with or without Content-Length.
    app.add_middleware(BodyLimitMiddleware)
    # Issue 10: hot tiles and 304s this process can answer from memory skip the routes.
    app.add_middleware(HotTiles)
    # Issue 14: a public read that failed on the replica is answered from the primary; public reads get caching headers.
    app.add_middleware(replica.PublicReads)

    # Keep this the last middleware added (the outermost): every answer, other middleware's too, gets the
    # CSP, framing, nosniff and referrer headers.
    app.add_middleware(SecurityHeadersMiddleware, tile_url=settings.tile_url)
    return app
