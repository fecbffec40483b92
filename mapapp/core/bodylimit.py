"""Request body limits counted as the bytes arrive, with or without Content-Length.

Checking Content-Length alone let a chunked body through: 300 MB of JSON was read into memory and 1 GB
of multipart spooled to disk before anything refused it. Here every `http.request` message is counted;
past the limit the application's next read raises PayloadTooLarge, and the answer is a 413 in our
error shape with `Connection: close`, so the server stops reading the rest.
"""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings


class PayloadTooLarge(DomainError):
    code = "payload_too_large"
    status = 413


def body_limit(content_type: str) -> int:
    """The most bytes a body of this type may have: multipart carries photos, everything else is small."""
    settings = get_settings()
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return settings.multipart_body_max_bytes
    return settings.json_body_max_bytes


def _too_large(limit: int) -> PayloadTooLarge:
    shown = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return PayloadTooLarge(f"the request body is larger than {shown}", limit_bytes=limit)


class BodyLimitMiddleware:
    """A pure ASGI middleware: refuses a declared or streamed body over its limit with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        limit = body_limit(headers.get(b"content-type", b"").decode("latin-1"))
        declared = headers.get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, _too_large(limit))
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise _too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _too_large(limit)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:  # the client is still sending: tell the server not to read the rest
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except PayloadTooLarge as exc:
            if started:
                raise
            await _answer(send, exc)


async def _answer(send: Send, error: PayloadTooLarge) -> None:
    body = json.dumps(error.to_body()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
