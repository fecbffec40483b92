"""HTTP caching of public reads (tiles, GeoJSON): one Cache-Control, and If-None-Match against a strong ETag;
and the versions behind those ETags, kept a moment in each process."""

import threading
import time
from collections.abc import Callable, Hashable
from typing import ClassVar, Generic, TypeVar

from sqlalchemy import Engine, event

from mapapp.core.settings import get_settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Paths whose answers must change within seconds of an administrator's action (a disaster layer switched on).
SHORT_LIVED = ("/api/layers",)


def public_cache_control(path: str = "") -> str:
    """Seconds a shared cache may serve a public read as fresh, then while revalidating, then if we are down.

    The one Cache-Control of public reads: tiles and GeoJSON (with their own strong ETags), photos from the
    bucket, and every other public GET (core.replica.PublicReads adds it with a weak ETag)."""
    settings = get_settings()
    fresh = settings.layers_cache_seconds if path.startswith(SHORT_LIVED) else settings.public_cache_seconds
    stale = (
        min(settings.public_stale_seconds, fresh * 6) if path.startswith(SHORT_LIVED) else settings.public_stale_seconds
    )
    return f"public, max-age={fresh}, stale-while-revalidate={stale}, stale-if-error=3600"


def cache_headers(etag: str) -> dict[str, str]:
    """The ETag and the Cache-Control of a public read: a CDN or browser may keep it briefly, then revalidates."""
    return {"ETag": etag, "Cache-Control": public_cache_control()}


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, RFC 9110 §13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in if_none_match.split(","))


def revalidation_requested(cache_control: str | None) -> bool:
    """Whether the client asks for the current answer, not a kept one (`no-cache`, `max-age=0`: a reload, or
    the map refreshing just after a citizen's report)."""
    directives = {d.strip().lower().replace(" ", "") for d in (cache_control or "").split(",")}
    return bool(directives & {"no-cache", "max-age=0", "no-store"})


class Recent(Generic[K, V]):
    """Values read from the database within the last `MAPAPP_VERSION_SECONDS`, so that a revalidation or a
    hot tile is answered without a query. Layer versions change with every report written, in any process: a
    value reused for a second is at most a second older than the shared caches' own max-age already allows.
    Any commit in this process forgets every value (what it wrote shows at once here); a client that asks to
    revalidate is not served from here (core.replica.wants_current)."""

    _all: ClassVar[list["Recent[object, object]"]] = []

    def __init__(self, max_entries: int = 1024, seconds: Callable[[], float] | None = None) -> None:
        self._values: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        self._seconds = seconds or (lambda: get_settings().version_seconds)
        Recent._all.append(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        entry = self._values.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        seconds = self._seconds()
        if seconds <= 0:
            return
        with self._lock:
            if len(self._values) >= self._max:  # keys come from requests: made-up ones must not grow it
                self._values.clear()
            self._values[key] = (time.monotonic() + seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


@event.listens_for(Engine, "commit")
def _forget_recent(_conn: object) -> None:
    """A write committed by this process may have moved a version: read them again."""
    for recent in Recent._all:
        recent.clear()
