"""Hot tiles answered in front of the routes: a 304 or a tile kept in memory, when this process knows the
layer's version from the last second (mapapp.tiles.service.remembered_tile). The routes' request handling
(matching among every route, dependencies, a worker thread) costs several times what such an answer does.

Anything else — a tile to build, a client that wants the current version, a query the fast path does not
read — goes on to the route, which validates and answers it as always. The outer middleware (security
headers, public-read caching) wraps both alike.
"""

import re
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from mapapp.core import replica
from mapapp.core.errors import DomainError
from mapapp.tiles import service

TILE_PATH = re.compile(r"/tiles/([A-Za-z0-9_-]{1,64})/(\d{1,2})/(\d{1,9})/(\d{1,9})\.mvt")


def _filters(query: str) -> service.TileFilters | None:
    """The filters, when the query names only status (any times) and category (once); else None."""
    statuses: list[str] = []
    categories: list[str] = []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "status":
            statuses.append(value)
        elif key == "category":
            categories.append(value)
        else:
            return None
    if len(categories) > 1:
        return None
    category = categories[0] or None if categories else None  # blank is no filter, as on the route
    return service.TileFilters(statuses=service.expand_statuses(statuses), category=category)


class HotTiles:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and (match := TILE_PATH.fullmatch(scope["path"])):
            request = Request(scope)
            tile = None
            if not replica.wants_current(request.headers.get("cache-control"), request.cookies):
                try:
                    tile_filters = _filters(scope["query_string"].decode("latin-1"))
                    if tile_filters is not None:
                        layer, z, x, y = match.group(1), *map(int, match.group(2, 3, 4))
                        tile = service.remembered_tile(
                            layer=layer,
                            z=z,
                            x=x,
                            y=y,
                            tile_filters=tile_filters,
                            if_none_match=request.headers.get("if-none-match"),
                        )
                except DomainError:  # the route says what is wrong, in the API's own words
                    tile = None
            if tile is not None:
                body = tile.body or b""
                headers = service.response_headers(tile) | {"Content-Length": str(len(body))}
                raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
                status = 200 if tile.body is not None else 304
                await send({"type": "http.response.start", "status": status, "headers": raw})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
