"""Upload limits that hold: bodies counted as they stream (chunked or not), and multipart edge cases
answered in our error shape, each changing nothing."""

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.factories import make_photo
from tests.photos.server import server_process

FIELDS = {"layer": "facilities", "category": "streetlight-out", "lat": "37.5663", "lon": "126.9016"}
BOUNDARY = "mapapp-test-boundary"


def counts(demo_db: str) -> tuple[int, int]:
    engine = create_engine(demo_db)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(text("SELECT count(*) FROM reports")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM photos")).scalar_one(),
            )
    finally:
        engine.dispose()


def part(name: str, value: bytes, *, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def multipart(*parts: bytes, fields: dict[str, str] | None = None) -> bytes:
    base = [part(k, v.encode()) for k, v in (FIELDS if fields is None else fields).items()]
    return b"".join([*base, *parts]) + f"--{BOUNDARY}--\r\n".encode()


MULTIPART = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


# --- multipart edge cases: our shape, nothing stored --------------------------------------------------

EDGE_CASES = [
    (
        "seven photos",
        multipart(*[part("photos", make_photo(), filename=f"{i}.jpg", content_type="image/jpeg") for i in range(7)]),
        MULTIPART,
        422,
        "too_many_photos",
    ),
    (
        "a text field over 1 MB",
        multipart(part("description", b"a" * (1024 * 1024 + 1))),
        MULTIPART,
        413,
        "payload_too_large",
    ),
    ("multipart without a boundary", multipart(), {"content-type": "multipart/form-data"}, 400, "invalid_request"),
    (
        "a zero-byte photo",
        multipart(part("photos", b"", filename="empty.jpg", content_type="image/jpeg")),
        MULTIPART,
        422,
        "empty_photo",
    ),
    (
        "form text that is not UTF-8",
        multipart(part("description", "가로등이 꺼져 있어요".encode("euc-kr"))),
        MULTIPART,
        422,
        "invalid_encoding",
    ),
    (
        "an unknown charset",
        multipart(part("description", b"abc", content_type="text/plain; charset=klingon")),
        MULTIPART,
        422,
        "invalid_encoding",
    ),
    ("a NUL in a form field", multipart(part("email", b"a\x00@example.org")), MULTIPART, 400, "invalid_request"),
    (
        "url-encoded text that is not UTF-8",
        b"layer=facilities&category=pothole&lat=37.5663&lon=126.9016&description=%B0%A1",
        {"content-type": "application/x-www-form-urlencoded"},
        422,
        "invalid_encoding",
    ),
    (
        "a declared body over the JSON limit",
        b"{" + b" " * (1024 * 1024 + 10) + b"}",
        {"content-type": "application/json"},
        413,
        "payload_too_large",
    ),
]


@pytest.mark.parametrize("case", EDGE_CASES, ids=[c[0] for c in EDGE_CASES])
def test_a_bad_multipart_body_gets_our_error_and_changes_nothing(client, demo_db, case):
    _, body, headers, status, code = case
    before = counts(demo_db)
    response = client.post("/api/reports", content=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert counts(demo_db) == before


def test_a_zero_byte_photo_is_named_in_the_error(client, demo_db):
    body = multipart(part("photos", b"", filename="pothole.jpg", content_type="image/jpeg"))
    error = client.post("/api/reports", content=body, headers=MULTIPART).json()["error"]
    assert "pothole.jpg" in error["message"] and error["details"]["field"] == "photos"


def test_an_empty_file_input_is_no_photo_at_all(client, demo_db):
    # What a browser sends when the citizen chose no file: an empty part with an empty file name.
    body = multipart(part("photos", b"", filename="", content_type="application/octet-stream"))
    response = client.post("/api/reports", content=body, headers=MULTIPART)
    assert response.status_code == 201, response.text
    assert response.json()["photos"] == 0


@pytest.mark.parametrize(
    "declared",
    [
        part("description", "가로등이 꺼져 있어요".encode("euc-kr"), content_type="text/plain; charset=euc-kr"),
        part("_charset_", b"euc-kr") + part("description", "가로등이 꺼져 있어요".encode("euc-kr")),
    ],
    ids=["part charset", "_charset_ field"],
)
def test_form_text_in_a_declared_charset_is_decoded_correctly(client, demo_db, declared):
    response = client.post("/api/reports", content=multipart(declared), headers=MULTIPART)
    assert response.status_code == 201, response.text
    detail = client.get(f"/api/reports/{response.json()['id']}").json()
    assert detail["properties"]["description"] == "가로등이 꺼져 있어요"


def test_a_photo_and_utf8_fields_still_go_through(client, demo_db):
    body = multipart(
        part("description", "가로등".encode()),
        part("photos", make_photo(), filename="a.jpg", content_type="image/jpeg"),
    )
    response = client.post("/api/reports", content=body, headers=MULTIPART)
    assert response.status_code == 201, response.text
    assert response.json()["photos"] == 1


# --- streamed bodies against a real server process: 413 early, no temp file, flat memory ------------


def chunks(total: int, piece: bytes) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


def json_stream(total: int) -> Iterator[bytes]:
    yield b'{"layer": "facilities", "description": "'
    yield from chunks(total, b"x" * (1024 * 1024))
    yield b'"}'


def multipart_stream(total: int) -> Iterator[bytes]:
    # Parts of 8 MB each: under the per-photo limit, so only the body limit can stop them.
    yield multipart(fields=FIELDS)[: -len(f"--{BOUNDARY}--\r\n")]
    piece = b"\xff" * (1024 * 1024)
    for i in range(total // (8 * 1024 * 1024)):
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment"; filename="{i}.bin"\r\n\r\n'.encode()
        yield from chunks(8 * 1024 * 1024, piece)
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture(scope="module")
def server(demo_db):
    with server_process(demo_db) as process:
        yield process


def _post_stream(url: str, body: Iterator[bytes], content_type: str) -> tuple[int, dict, float]:
    start = time.monotonic()
    # A generator body: httpx sends it chunked, with no Content-Length.
    response = httpx.post(f"{url}/api/reports", content=body, headers={"content-type": content_type}, timeout=60)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    return response.status_code, response.json(), time.monotonic() - start


@pytest.mark.parametrize(
    ("kind", "body", "content_type"),
    [
        ("300 MB of JSON", lambda: json_stream(300 * 1024 * 1024), "application/json"),
        ("1 GB of multipart", lambda: multipart_stream(1024 * 1024 * 1024), MULTIPART["content-type"]),
    ],
    ids=["json", "multipart"],
)
def test_a_chunked_body_over_the_limit_is_stopped_as_it_streams(server, demo_db, kind, body, content_type):
    before = counts(demo_db)
    time.sleep(0.3)
    baseline = server.memory_mb()["VmRSS"]
    server.reset_peak()
    status, answer, seconds = _post_stream(server.url, body(), content_type)
    peak = server.memory_mb()["VmHWM"]
    print(f"\n{kind}: {status} in {seconds:.2f} s; RSS peak {peak - baseline:+.0f} MiB over {baseline:.0f} MiB")
    assert status == 413 and answer["error"]["code"] == "payload_too_large", answer
    assert seconds < 10
    assert peak - baseline < 100, f"RSS rose {peak - baseline:.0f} MiB"
    assert server.temp_bytes() == 0 and server.open_temp_files() == []
    assert counts(demo_db) == before


def test_the_server_still_answers_after_refusing_a_stream(server):
    status, _, _ = _post_stream(server.url, json_stream(5 * 1024 * 1024), "application/json")
    assert status == 413
    assert httpx.get(f"{server.url}/healthz").status_code == 200
