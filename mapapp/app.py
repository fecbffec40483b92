"""The FastAPI application: routers mounted, the domain error table registered."""

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from mapapp import __version__
from mapapp import models as _models  # noqa: F401  (every table known before the first query)
from mapapp.accounts.router import router as accounts_router
from mapapp.admin.router import router as admin_router
from mapapp.core.db import get_engine
from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.jurisdictions.router import router as jurisdictions_router
from mapapp.layers.router import router as layers_router
from mapapp.offices.router import router as offices_router
from mapapp.open311.router import router as open311_router
from mapapp.reports.router import router as reports_router
from mapapp.web.router import router as web_router

log = logging.getLogger(__name__)


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(exc.to_body(), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()]
    body = {"error": {"code": "invalid_request", "message": "the request is not valid", "details": problems}}
    return JSONResponse(body, status_code=422)


VENDOR = {  # URL name -> folder inside the npm package
    "leaflet": "leaflet/dist",
    "markercluster": "leaflet.markercluster/dist",
    "swagger-ui": "swagger-ui-dist",
    "exifr": "exifr/dist",
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
        docs_url=None,  # served below with Swagger UI from our own origin, never a CDN
        redoc_url=None,
    )
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(layers_router)
    app.include_router(reports_router)
    app.include_router(open311_router)
    app.include_router(jurisdictions_router)
    app.include_router(web_router)
    app.include_router(accounts_router)
    app.include_router(offices_router)
    app.include_router(admin_router)
    settings = get_settings()
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_dir), name="media")
    _mount_assets(app, settings.static_dir, settings.vendor_dir)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="mapapp API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        )

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
