"""FastAPI side of rate limits: the client's address and a route dependency per named limit."""

from typing import Any

from fastapi import Depends, Request

from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.ratelimit import service


def request_client(request: Request) -> str:
    """The client address of a request (X-Forwarded-For is believed only from trusted proxies)."""
    peer = request.client.host if request.client else None
    return service.client_address(peer, request.headers.getlist("x-forwarded-for"), get_settings().trusted_proxies)


def limit_by_client(name: str, what: str = "requests") -> Any:
    """A route dependency: one request from this client's bucket of the limit `name`, or 429.

    The check runs in its own short transaction, before the body is read: a refused request costs
    one statement and changes nothing else. Use as `dependencies=[limit_by_client("submit")]`.
    """

    def rate_limit(request: Request) -> None:
        limit = service.limit_named(name)
        with transaction() as session:
            allowed, wait = service.allow(session, limit=limit, subject=request_client(request))
        if not allowed:
            raise service.RateLimited(f"too many {what} from your address; try again in {wait} s", retry_after=wait)

    rate_limit.__name__ = f"rate_limit_{name}"
    return Depends(rate_limit)
