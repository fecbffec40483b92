"""Request sanity at the edge: URLs and JSON bodies that cannot be stored are refused with a 400, HEAD is
answered like GET, and an unexpected exception becomes a 500 in our error shape with its traceback logged.

PostgreSQL text cannot hold NUL, and UTF-8 cannot encode a lone surrogate: either one reaching a query
used to end as an anonymous 500. They are refused here, before routing, for every path and query string.
"""

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapapp.core.errors import DomainError, InternalError, InvalidRequest
from mapapp.core.text import storable

log = logging.getLogger(__name__)

JSON_MAX_DEPTH = 32

ErrorRenderer = Callable[[Request, DomainError], Response]


def _url_problem(scope: Scope) -> str | None:
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    for part, raw in (("path", raw_path), ("query string", scope.get("query_string", b""))):
        decoded = unquote_to_bytes(raw.replace(b"+", b" "))
        if b"\x00" in decoded:
            return f"the {part} contains a NUL character"
        try:
            decoded.decode("utf-8")  # strict: also refuses UTF-8-encoded surrogates (ED A0 80 ...)
        except UnicodeDecodeError:
            return f"the {part} is not valid UTF-8 once percent-decoded"
    if not storable(scope["path"]):
        return "the path contains a NUL character or a lone surrogate"
    if any(b"\x00" in value for _, value in scope.get("headers", [])):
        return "a header contains a NUL character"
    return None


class RequestGuard:
    """Refuses, with 400 `invalid_request`, a path, query string or header that cannot be stored."""

    def __init__(self, app: ASGIApp, render: ErrorRenderer) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _url_problem(scope)
            if problem is not None:
                response = self.render(Request(scope), InvalidRequest(problem))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class HeadAsGet:
    """HEAD on a GET-only route is answered as GET without the body (RFC 9110 §9.3.2), not 405.

    Routes that handle HEAD themselves (static files) keep it; FastAPI routes stay GET-only in the
    OpenAPI schema.
    """

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def _handles_head(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] == Match.FULL for route in self.router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or self._handles_head(scope):
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # A copy: the server still knows the request was HEAD and sends no body either.
        await self.app({**scope, "method": "GET"}, receive, send_headers_only)


class UnexpectedErrors:
    """Any exception that escapes the handlers: its traceback to the log, a 500 in our shape to the client."""

    def __init__(self, app: ASGIApp, render: ErrorRenderer) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if started:  # too late for another answer: the server closes the connection
                raise
            error = InternalError("an unexpected error happened; it has been logged")
            await self.render(Request(scope), error)(scope, receive, send)


def _tree_problem(value: Any, limit: int) -> str | None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return f"the body is nested more than {limit} levels deep"
        if isinstance(item, str) and not storable(item):
            return "the body contains a NUL character or a lone surrogate"
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def _refuse_constant(name: str) -> Any:
    raise InvalidRequest(f"{name} is not a JSON number; send a finite number or null")


def read_json_object(body: bytes, *, empty: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request body as a JSON object, or InvalidRequest: invalid JSON, NaN/Infinity, too deeply nested,
    not an object, or text that cannot be stored (NUL, lone surrogates) anywhere in it."""
    if not body.strip() and empty is not None:
        return empty
    try:
        text = body.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise InvalidRequest("the body is not UTF-8") from None
    except (ValueError, RecursionError):
        raise InvalidRequest("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRequest("the body must be a JSON object")
    # Escapes such as "\u0000" and "\ud800" are valid JSON but not storable text.
    problem = _tree_problem(value, JSON_MAX_DEPTH)
    if problem is not None:
        raise InvalidRequest(problem)
    return value
