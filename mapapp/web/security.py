"""What every answer needs to be safe in a browser: the Content-Security-Policy (with a per-request nonce
for the few inline scripts folium writes), nosniff, the referrer policy, who may frame us, and JSON that
can sit inside HTML."""

import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Only these paths may be framed by other sites (the widget); everything else, /docs included, by us only.
FRAMEABLE_PATHS = frozenset({"/embed"})
NONCE_KEY = "csp_nonce"  # in the ASGI scope's "state", where request.state reads and writes

# '<', '>' and '&' as \u escapes: no '</script', '<!--' or ']]>' can appear inside a script element, and the
# text means the same to JSON.parse and to a JavaScript parser. U+2028/U+2029 are line terminators for
# JavaScript before ES2019, so they are escaped as well.
_JSON_HTML_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_html(value: Any) -> Markup:
    """`value` as JSON that is safe inside a <script> element or an HTML attribute value (quoted with ')."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_JSON_HTML_ESCAPES)
    return Markup(text.replace("'", "\\u0027"))


def csp_nonce(request: Request) -> str:
    """This request's nonce for inline <script>/<style> elements; asking for one puts it in the CSP."""
    state = request.scope.setdefault("state", {})
    if NONCE_KEY not in state:
        state[NONCE_KEY] = secrets.token_urlsafe(18)
    return str(state[NONCE_KEY])


_BARE_INLINE_TAG = re.compile(r"<(script|style)>")


def add_nonce(html: str, nonce: str) -> str:
    """Give the bare `<script>` and `<style>` tags of generated HTML (folium's) the request's nonce.

    Only tags written exactly `<script>` / `<style>` are touched. That is safe because every piece of
    user-controlled text in our pages is HTML-escaped or passed through `json_for_html`, so a literal `<`
    from a user can never reach the document.
    """
    return _BARE_INLINE_TAG.sub(lambda m: f'<{m.group(1)} nonce="{nonce}">', html)


def tile_source(tile_url: str) -> str | None:
    """The CSP source for the configured base-map tiles: `https://{s}.tile.example/{z}/...` → `https://*.tile.example`."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None  # relative: tiles from our own origin, covered by 'self'
    host = re.sub(r"\{[a-z]\}", "*", parts.netloc)  # Leaflet's subdomain placeholder {s}
    if "{" in host or "}" in host or not re.fullmatch(r"[A-Za-z0-9.*:\-\[\]]+", host):
        return None  # some other template in the host name: no safe source to name, tiles stay blocked
    return f"{parts.scheme}://{host}"


def content_security_policy(*, nonce: str | None, frame_anyone: bool, tile_url: str) -> str:
    """The policy every answer carries; see the comments for why each directive is what it is."""
    inline = f" 'nonce-{nonce}'" if nonce else ""
    tiles = tile_source(tile_url)
    directives = [
        "default-src 'self'",
        # Scripts only from files we serve, plus the inline scripts folium generates for this very answer.
        f"script-src 'self'{inline}",
        # <style> elements and stylesheets: our files and folium's nonced blocks only, so injected markup
        # cannot bring a stylesheet (CSS selectors can read attribute values out of a page).
        f"style-src-elem 'self'{inline}",
        # Style *attributes*: Leaflet, its marker-cluster plugin and Swagger UI position and size elements
        # with inline style attributes, and markup they build with innerHTML may carry them. An attribute
        # cannot hold selectors, so it cannot read the page: 'unsafe-inline' here costs little.
        "style-src-attr 'unsafe-inline'",
        # CSP2 browsers, which know neither of the two above, fall back to this; a nonce here would make
        # them ignore 'unsafe-inline' and break the map, so it carries none.
        "style-src 'self' 'unsafe-inline'",
        # Photos, thumbnails, previews of photos being chosen (blob:/data:), Leaflet's and Swagger UI's icons,
        # and the base-map tiles when a tile server is configured.
        "img-src 'self' data: blob:" + (f" {tiles}" if tiles else ""),
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors *" if frame_anyone else "frame-ancestors 'self'",
    ]
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    """Adds the CSP, X-Frame-Options, nosniff and Referrer-Policy to every answer (pure ASGI: streams pass)."""

    def __init__(self, app: ASGIApp, *, tile_url: str) -> None:
        self.app = app
        self.tile_url = tile_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        frame_anyone = scope["path"] in FRAMEABLE_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = content_security_policy(
                    nonce=state.get(NONCE_KEY), frame_anyone=frame_anyone, tile_url=self.tile_url
                )
                # The old header for browsers without frame-ancestors; it has no "anyone" value, so the
                # widget simply goes without it.
                if frame_anyone:
                    if "x-frame-options" in headers:
                        del headers["x-frame-options"]
                else:
                    headers["X-Frame-Options"] = "SAMEORIGIN"
                headers["X-Content-Type-Options"] = "nosniff"
                # Other sites (the tile server among them, whose usage policy wants a Referer) learn our
                # origin only, never a path: report pages and links sent to reporters may carry secrets.
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
            await send(message)

        await self.app(scope, receive, send_with_headers)
