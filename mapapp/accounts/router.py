"""HTTP for staff log-in, and the dependency that says who is acting on every staff endpoint."""

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from mapapp.accounts import service
from mapapp.accounts.schemas import LoggedIn, LoggedOut, Me, PasswordChanged
from mapapp.core.actors import Actor, Forbidden, NotAuthenticated
from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.core.text import StorableStr
from mapapp.ratelimit.deps import limit_by_client, request_client

router = APIRouter(prefix="/api/auth", tags=["staff"])
COOKIE = "mapapp_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _bearer(request: Request) -> str | None:
    """The bearer token, or None; an empty `Authorization: Bearer ` is no token at all."""
    header = request.headers.get("authorization", "")
    return (header[7:].strip() or None) if header.lower().startswith("bearer ") else None


def current_actor(request: Request) -> Actor:
    """The logged-in actor: a bearer token, or the session cookie plus its CSRF header on changes."""
    bearer = _bearer(request)
    token = bearer or request.cookies.get(COOKIE)
    with transaction() as session:
        actor, csrf = service.actor_for_token(session, token)
    # The CSRF token belongs to the session, not to a tab: /api/auth/me hands it to every tab of the session.
    request.state.csrf_token = csrf
    # Only a real bearer token (which a browser never sends by itself) is exempt from the CSRF check.
    if bearer is None and request.method not in SAFE_METHODS:
        given = request.headers.get("x-csrf-token") or ""
        if not hmac.compare_digest(given.encode(), csrf.encode()):
            raise Forbidden("missing or wrong X-CSRF-Token header")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


class LogIn(BaseModel):
    email: StorableStr
    password: StorableStr


@router.post(
    "/login",
    summary="Staff log-in",
    dependencies=[limit_by_client("login", "log-in attempts")],
    response_model=LoggedIn,
)
def log_in(body: LogIn, request: Request, response: Response) -> dict[str, Any]:
    """A session token (for the API) and a cookie (for pages, with the CSRF token for forms).

    A wrong password, or an e-mail without an account, is the same 401; repeated failures from one
    address wait a growing delay (429 with Retry-After). No account is ever locked.
    """
    with transaction() as session:  # committed even for a wrong password: the failure is counted
        result = service.log_in(session, email=body.email, password=body.password, client=request_client(request))
    if result is None:
        raise NotAuthenticated("wrong e-mail or password")
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


@router.post("/logout", summary="Staff log-out", response_model=LoggedOut)
def log_out(request: Request, response: Response, actor: ActorDep) -> dict[str, str]:
    token = _bearer(request) or request.cookies.get(COOKIE, "")
    with transaction() as session:
        service.log_out(session, token=token)
    response.delete_cookie(COOKIE)
    return {"status": "logged out"}


@router.get("/me", summary="Who is logged in", response_model=Me)
def me(request: Request, actor: ActorDep) -> dict[str, Any]:
    """Who is logged in, and the session's CSRF token (the same for every tab of the session)."""
    with transaction() as session:
        office = service.office_slug(session, actor)
    return {
        "email": actor.email,
        "role": actor.role,
        "office": office,
        "csrf_token": getattr(request.state, "csrf_token", None),
    }


class PasswordResetBody(BaseModel):
    token: StorableStr  # the secret after '#token=' in the e-mailed link
    password: StorableStr


@router.post(
    "/password-reset",
    summary="Choose a new password with an e-mailed reset link",
    dependencies=[limit_by_client("login", "log-in attempts")],
    response_model=PasswordChanged,
)
def reset_password(body: PasswordResetBody) -> dict[str, str]:
    """The link works once and for a day; afterwards every session of the account has ended: log in again."""
    with transaction() as session:
        service.reset_password(session, token=body.token, password=body.password)
    return {"status": "password changed"}
