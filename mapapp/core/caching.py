"""HTTP caching of public reads (tiles, GeoJSON): one Cache-Control, and If-None-Match against a strong ETag."""

from mapapp.core.settings import get_settings

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
