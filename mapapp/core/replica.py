"""Public reads from a streaming replica, and the caching headers that let a proxy serve them (issue 14).

Which database answers a public read (the map's GeoJSON, tiles, report pages, Open311 GET):
- the replica in MAPAPP_READ_DATABASE_URL, while it answers and lags at most MAPAPP_READ_MAX_LAG_SECONDS;
- else the primary. A citizen who has just submitted carries a short-lived cookie with the primary's WAL
  position after their commit; the replica serves them only once it has replayed that far (read-your-writes),
  so their new report never shows as a 404.

The replica's state is looked at most once a second per process (one cheap query), so a replica that stops
is skipped within a second; a request already on it when it went away is answered again from the primary
(`PublicReads`, for GET and HEAD only), so a replica restart fails no request.
"""

import gzip
import hashlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mapapp.core.caching import public_cache_control, revalidation_requested
from mapapp.core.db import get_engine
from mapapp.core.settings import get_settings

log = logging.getLogger(__name__)

WROTE_COOKIE = "mapapp_wrote"  # the primary's WAL position after this browser's last submission
USED_REPLICA = "read_replica"  # in the ASGI scope's state: this request read from the replica
PRIMARY_ONLY = "read_primary_only"  # set for the one retry of a request the replica failed
PUBLIC_READ = "public_read"  # this answer is the same for everyone: cacheable by a shared cache

# Seconds of lag: 0 while the replica has replayed all it received (an idle primary sends nothing new), else
# the age of the last transaction it replayed (none yet since it started: the time since it started).
LAG_SQL = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - coalesce(pg_last_xact_replay_timestamp(), pg_postmaster_start_time())) "
    "END::float8, pg_last_wal_replay_lsn()::text, pg_is_in_recovery()"
)
CHECK_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class ReplicaState:
    reachable: bool
    lag_seconds: float | None
    replay_lsn: str | None
    checked_at: float
    problem: str | None = None

    def usable(self, max_lag: float) -> bool:
        return self.reachable and self.lag_seconds is not None and self.lag_seconds <= max_lag

    def as_dict(self, max_lag: float) -> dict[str, Any]:
        return {
            "status": "ok" if self.usable(max_lag) else ("lagging" if self.reachable else "unreachable"),
            "lag_seconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "max_lag_seconds": max_lag,
            "used_for_reads": self.usable(max_lag),
        }


_states: dict[str, ReplicaState] = {}
_lock = threading.Lock()


def lsn_value(lsn: str) -> int:
    """A WAL position 'X/Y' as one comparable number."""
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def _probe(url: str) -> ReplicaState:
    now = time.monotonic()
    try:
        with get_engine(url).connect() as conn:
            lag, replay_lsn, in_recovery = conn.execute(LAG_SQL).one()
    except DBAPIError as exc:
        return ReplicaState(False, None, None, now, str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc))
    if not in_recovery:  # promoted, or pointed at a primary by mistake: it is not lagging
        return ReplicaState(True, 0.0, None, now)
    return ReplicaState(True, float(lag or 0.0), replay_lsn, now)


def replica_state(url: str, *, fresh: bool = False) -> ReplicaState:
    """The replica's reachability and lag, looked at most once a second per process."""
    state = _states.get(url)
    if fresh or state is None or time.monotonic() - state.checked_at > CHECK_EVERY_SECONDS:
        with _lock:  # one probe at a time; the others use the state it finds
            state = _states.get(url)
            if fresh or state is None or time.monotonic() - state.checked_at > CHECK_EVERY_SECONDS:
                state = _probe(url)
                was = _states.get(url)
                if was is not None and was.reachable != state.reachable:
                    log.warning("read replica %s", "back" if state.reachable else f"unreachable: {state.problem}")
                _states[url] = state
    return state


def mark_unreachable(url: str, problem: str) -> None:
    """A request just failed on the replica: skip it until the next look finds it back."""
    with _lock:
        _states[url] = ReplicaState(False, None, None, time.monotonic(), problem)


def read_url(request: Request) -> str | None:
    """The database URL for this public read: the replica's when it may answer it, None for the primary."""
    settings = get_settings()
    url = settings.read_database_url
    if not url or request.scope.setdefault("state", {}).get(PRIMARY_ONLY):
        return None
    state = replica_state(url)
    if not state.usable(settings.read_max_lag_seconds):
        return None
    wrote = request.cookies.get(WROTE_COOKIE)
    if wrote and state.replay_lsn is not None:
        try:
            if lsn_value(state.replay_lsn) < lsn_value(wrote):
                return None  # this citizen's own report may not be on the replica yet
        except ValueError:
            return None
    request.scope["state"][USED_REPLICA] = True
    return url


def wants_current(cache_control: str | None, cookies: Mapping[str, str]) -> bool:
    """A client that asks to revalidate (a reload), or a citizen who has just written: nothing a process keeps
    in memory answers them."""
    return revalidation_requested(cache_control) or WROTE_COOKIE in cookies


def remember_write(response: Response) -> None:
    """After a citizen's commit: a cookie with the primary's WAL position, so their next reads see it."""
    settings = get_settings()
    if not settings.read_database_url:
        return
    with get_engine().connect() as conn:
        lsn = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
    response.set_cookie(
        WROTE_COOKIE, lsn, max_age=settings.read_your_writes_seconds, httponly=True, samesite="lax", path="/"
    )


def readiness() -> dict[str, Any] | None:
    """The replica's part of /readyz (None when there is no replica)."""
    settings = get_settings()
    if not settings.read_database_url:
        return None
    return replica_state(settings.read_database_url, fresh=True).as_dict(settings.read_max_lag_seconds)


# --- the edge: answer again from the primary, and say what a shared cache may keep ------------------------


_current_scope: ContextVar[Scope | None] = ContextVar("mapapp_request_scope", default=None)


def public_read_url() -> str | None:
    """For code that opens its own transaction for a public read: `transaction(public_read_url())`."""
    scope = _current_scope.get()
    if scope is None:
        return None
    scope.setdefault("state", {})[PUBLIC_READ] = True
    return read_url(Request(scope))


class PublicReads:
    """For GET and HEAD: a public read that failed on the replica (503 database_unavailable) is answered again
    from the primary; a public read's answer gets Cache-Control and an ETag (304 when it matches), unless it is
    a page with a per-request CSP nonce, which no shared cache may hand to someone else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        _current_scope.set(scope)  # this request's task (and the threads it starts) see it
        replied = await self._answer(scope, receive, send, state)
        if not replied:
            if state.get("replica_failure_status") == 503:
                mark_unreachable(get_settings().read_database_url, "a request failed on it")
            log.warning("read replica failed %s %s; answered from the primary", scope["method"], scope["path"])
            state.pop(USED_REPLICA, None)
            state[PRIMARY_ONLY] = True
            await self._answer(scope, receive, send, state)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]) -> bool:
        """Run the app; False (nothing sent) when it failed on the replica and may be retried."""
        start: Message | None = None
        mode = "pass"  # pass: stream through; hold: keep the body for the ETag; drop: answer again
        body = bytearray()

        async def relay(message: Message) -> None:
            nonlocal start, mode
            if message["type"] == "http.response.start":
                start = message
                status = message["status"]
                names = {k.lower() for k, _ in message.get("headers", [])}
                if status in (500, 503) and state.get(USED_REPLICA) and not state.get(PRIMARY_ONLY):
                    mode = "drop"  # down (503), or a query cancelled by a recovery conflict (500)
                    state["replica_failure_status"] = status
                elif status == 200 and state.get(PUBLIC_READ) and b"cache-control" not in names:
                    mode = "hold"
                else:
                    await send(message)
            elif mode == "pass":
                await send(message)
            elif mode == "hold":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_cacheable(scope, send, state, start or {}, bytes(body))

        await self.app(scope, receive, relay)
        return mode != "drop"

    @staticmethod
    async def _send_cacheable(scope: Scope, send: Send, state: dict[str, Any], start: Message, body: bytes) -> None:
        headers = list(start.get("headers", []))
        if "csp_nonce" in state:  # a page whose nonce must not be handed to anyone else
            await _send(send, start, body)
            return
        etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
        headers += [(b"cache-control", public_cache_control(scope["path"]).encode()), (b"etag", etag.encode())]
        if _matches(scope, etag):
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            await _send(send, {**start, "status": 304, "headers": headers}, b"")
            return
        if _gzip_wanted(scope, headers, body):
            # Compressed once here, then kept so by the cache: a city's GeoJSON shrinks about tenfold.
            body = gzip.compress(body, compresslevel=3)
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers += [
                (b"content-encoding", b"gzip"),
                (b"vary", b"Accept-Encoding"),
                (b"content-length", str(len(body)).encode()),
            ]
        await _send(send, {**start, "headers": headers}, body)


_COMPRESSIBLE = (b"application/json", b"application/geo+json", b"text/")


def _gzip_wanted(scope: Scope, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    if len(body) < 1024 or any(k.lower() == b"content-encoding" for k, _ in headers):
        return False
    ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    accepts = b"".join(v for k, v in scope.get("headers", []) if k == b"accept-encoding")
    return ctype.startswith(_COMPRESSIBLE) and b"gzip" in accepts


def _matches(scope: Scope, etag: str) -> bool:
    for key, value in scope.get("headers", []):
        if key == b"if-none-match":
            tags = [t.strip().removeprefix("W/") for t in value.decode("latin-1").split(",")]
            return etag.removeprefix("W/") in tags or "*" in tags
    return False


async def _send(send: Callable[[Message], Awaitable[None]], start: Message, body: bytes) -> None:
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
