"""The photo files of hidden photos: not served to the public once a moderator hid them.

The files are named by content hash, so a public page never links a held photo; a hidden one was public
before, and its address may have been copied. This wraps the /media file server: a key that a hidden
photo row names answers 404 unless the request carries a staff session (moderators still see it). One
query per file, over a partial index of the hidden rows only; the same bytes sent with another report
that is not hidden stay served.
"""

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from mapapp.accounts import service as accounts
from mapapp.core.actors import NotAuthenticated
from mapapp.core.db import transaction

SESSION_COOKIE = "mapapp_session"  # accounts.router.COOKIE (routers are not imported by services)
# A hidden photo names the file, and no photo that is not hidden shares its bytes (the same picture sent
# with two reports is one file: hiding it on one report must not break the other's).
_HIDDEN_KEY = text(
    """
    SELECT EXISTS (
        SELECT 1 FROM photos h
        WHERE h.hidden_at IS NOT NULL AND (h.display_key = :k OR h.thumb_key = :k)
          AND NOT EXISTS (SELECT 1 FROM photos q WHERE q.display_key = h.display_key AND q.hidden_at IS NULL))
    """
)


def withheld(key: str, session_token: str | None) -> bool:
    """True when `key` is a hidden photo's file and the request is not a logged-in staff member's."""
    with transaction() as session:
        if not session.execute(_HIDDEN_KEY, {"k": key}).scalar_one():
            return False
        try:
            accounts.actor_for_token(session, session_token)
        except NotAuthenticated:
            return True
        return False


class WithheldMedia:
    """ASGI wrapper of the media file server (mounted at /media)."""

    def __init__(self, files: ASGIApp) -> None:
        self.files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope)
            key = get_route_path(scope).lstrip("/")  # the path under the mount: the file's key
            hidden: bool = bool(key) and await run_in_threadpool(withheld, key, request.cookies.get(SESSION_COOKIE))
            if hidden:
                body = {"error": {"code": "not_found", "message": "no such file", "details": {}}}
                await JSONResponse(body, status_code=404)(scope, receive, send)
                return
        await self.files(scope, receive, send)
