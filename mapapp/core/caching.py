"""HTTP caching of public reads (tiles, GeoJSON): one Cache-Control, and If-None-Match against a strong ETag."""

from mapapp.core.settings import get_settings


def cache_headers(etag: str) -> dict[str, str]:
    """The ETag and the Cache-Control of a public read: a CDN or browser may keep it briefly, then revalidates."""
    settings = get_settings()
    return {
        "ETag": etag,
        "Cache-Control": f"public, max-age={settings.tiles_max_age_seconds}, "
        f"stale-while-revalidate={settings.tiles_stale_seconds}",
    }


def matches(if_none_match: str, tag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, RFC 9110 §13.1.2)."""
    if if_none_match.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in if_none_match.split(","))
