"""The FastAPI application: routers mounted, the domain error table registered."""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from mapapp import __version__
from mapapp import models as _models  # noqa: F401  (every table known before the first query)
from mapapp.core.db import get_engine
from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.layers.router import router as layers_router
from mapapp.open311.router import router as open311_router
from mapapp.reports.router import router as reports_router


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(exc.to_body(), status_code=exc.status)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"]} for e in exc.errors()]
    body = {"error": {"code": "invalid_request", "message": "the request is not valid", "details": problems}}
    return JSONResponse(body, status_code=422)


def create_app() -> FastAPI:
    """Build the application; settings are validated here, at start-up."""
    get_settings()
    app = FastAPI(
        title="mapapp",
        version=__version__,
        description="Community hazard-reporting map: citizen reports routed to the responsible office.",
    )
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(layers_router)
    app.include_router(reports_router)
    app.include_router(open311_router)
    media = get_settings().media_dir
    media.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=media), name="media")

    @app.get("/healthz", tags=["operations"], summary="Liveness and database check")
    def healthz() -> dict[str, str]:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (
            "<!doctype html><html lang='ko'><head><meta charset='utf-8'><title>mapapp</title></head>"
            "<body><h1>mapapp</h1><p>생활·재난 위험 신고 지도 / Community hazard-reporting map.</p>"
            "<ul><li><a href='/api/layers'>/api/layers</a></li><li><a href='/docs'>API documentation</a></li>"
            "</ul></body></html>"
        )

    return app
