"""GET /media/{key} when photos live in a bucket: proxied by the app with caching headers.

Proxied, not redirected to a presigned URL: a key is the hash of its bytes, so the same URL always means
the same bytes, and nginx, a CDN and the browser can cache it under the /media URL that pages, the API and
Open311 already publish. A presigned URL expires, differs on every request (so nothing downstream can
cache it), would put the object store's host in every page's Content-Security-Policy, and would need the
bucket to be reachable from citizens' browsers, which a city's internal object store usually is not.

Not cached for a year as "immutable", though the bytes never change: a moderator may hide a photo
(moderation.media.WithheldMedia answers 404 for it, and wraps this app as it wraps the local files), and
shared caches must learn that within the public reads' cache time. Revalidation costs a 304.
"""

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from mapapp.core.caching import public_cache_control
from mapapp.photos.storage import get_storage

# Only content-addressed names: "ab/ab12…(64 hex).jpg".
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.jpg$")
_NOT_FOUND = {"error": {"code": "not_found", "message": "there is no photo at this address", "details": {}}}


async def media(request: Request) -> Response:
    key = request.path_params["key"]
    if not _KEY.match(key):
        return JSONResponse(_NOT_FOUND, status_code=404)
    etag = f'"{key[3:67]}"'
    headers = {"Cache-Control": public_cache_control(), "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = await run_in_threadpool(get_storage().get, key)
    if data is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    return Response(data, media_type="image/jpeg", headers=headers)


# Mounted at /media (mapapp.app), inside the moderation wrapper.
media_app = Router(routes=[Route("/{key:path}", media, methods=["GET", "HEAD"])])
