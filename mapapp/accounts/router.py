"""HTTP for staff log-in, and the dependency that says who is acting on every staff endpoint."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from mapapp.accounts import service
from mapapp.core.db import transaction
from mapapp.core.settings import get_settings

router = APIRouter(prefix="/api/auth", tags=["staff"])
COOKIE = "mapapp_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def current_actor(request: Request) -> service.Actor:
    """The logged-in actor: a bearer token, or the session cookie plus its CSRF header on changes."""
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    token = bearer or request.cookies.get(COOKIE)
    with transaction() as session:
        actor, csrf = service.actor_for_token(session, token)
    if bearer is None and request.method not in SAFE_METHODS and request.headers.get("x-csrf-token") != csrf:
        raise service.Forbidden("missing or wrong X-CSRF-Token header")
    return actor


ActorDep = Annotated[service.Actor, Depends(current_actor)]


class LogIn(BaseModel):
    email: str
    password: str


@router.post("/login", summary="Staff log-in")
def log_in(body: LogIn, response: Response) -> dict[str, Any]:
    """A session token (for the API) and a cookie (for pages, with the CSRF token for forms)."""
    with transaction() as session:  # committed even for a wrong password: the failure is counted
        result = service.log_in(session, email=body.email, password=body.password)
    if result is None:
        raise service.NotAuthenticated("wrong e-mail or password")
    token, csrf, actor = result
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=get_settings().environment == "production",
        max_age=12 * 3600,
    )
    return {"token": token, "csrf_token": csrf, "user": {"email": actor.email, "role": actor.role}}


@router.post("/logout", summary="Staff log-out")
def log_out(request: Request, response: Response, actor: ActorDep) -> dict[str, str]:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    with transaction() as session:
        service.log_out(session, token=token)
    response.delete_cookie(COOKIE)
    return {"status": "logged out"}


@router.get("/me", summary="Who is logged in")
def me(actor: ActorDep) -> dict[str, Any]:
    from mapapp.offices.models import Office

    with transaction() as session:
        office = session.get(Office, actor.office_id) if actor.office_id else None
        return {"email": actor.email, "role": actor.role, "office": office.slug if office else None}
