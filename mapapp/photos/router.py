"""GET /media/{key} when photos live in a bucket: proxied by the app with caching headers.

Proxied, not redirected to a presigned URL: a key is the hash of its bytes, so an answer never goes stale
and can be cached for a year by nginx, a CDN and the browser under the same /media URL that pages, the API
and Open311 already publish. A presigned URL expires, differs on every request (so nothing downstream can
cache it), would put the object store's host in every page's Content-Security-Policy, and would need the
bucket to be reachable from citizens' browsers, which a city's internal object store usually is not.
"""

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from mapapp.core.errors import NotFound
from mapapp.photos.storage import get_storage

router = APIRouter(tags=["photos"])

# Only content-addressed names: "ab/ab12…(64 hex).jpg".
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.jpg$")
IMMUTABLE = "public, max-age=31536000, immutable"


@router.get("/media/{key:path}", summary="A stored photo (from the bucket)", include_in_schema=False)
async def media(key: str, request: Request) -> Response:
    if not _KEY.match(key):
        raise NotFound("there is no photo at this address")
    etag = f'"{key[3:67]}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data = await run_in_threadpool(get_storage().get, key)
    if data is None:
        raise NotFound("there is no photo at this address")
    return Response(data, media_type="image/jpeg", headers=headers)
