"""Malformed input gets a 4xx in our error shape and changes nothing; framework errors, HEAD, a database
outage and an unexpected exception are answered in our shape too (issue 8)."""

import json
import logging
import socket
import uuid
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from mapapp.core import db as core_db
from tests.conftest import _admin, use_database

GOOD = {"layer": "facilities", "category": "streetlight-out", "lat": 37.5663, "lon": 126.9016}
TABLES = ("reports", "photos", "report_supporters", "idempotency_keys", "report_events", "routing_decisions", "outbox")


def counts(url: str) -> dict[str, int]:
    """How many rows each table a request could write holds."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}  # noqa: S608
    finally:
        engine.dispose()


def assert_our_error(response, status: int | tuple[int, ...], code: str | None = None) -> dict:
    """The answer is a 4xx (or the given status) with {"error": {"code", "message", "details"}}."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["message"], error
    if code is not None:
        assert error["code"] == code, error
    return error


def assert_open311_error(response, status: int, fmt: str = "json") -> str:
    """Open311's own shape: [{"code": 400, "description": "..."}] (or <errors><error> in XML)."""
    assert response.status_code == status, response.text
    if fmt == "json":
        [error] = response.json()
        assert error["code"] == status and error["description"]
        return error["description"]
    root = ET.fromstring(response.content)
    assert root.tag == "errors" and root.find("error/code").text == str(status)
    return root.find("error/description").text


@pytest.fixture(scope="module")
def report_id(client) -> str:
    response = client.post("/api/reports", json=GOOD | {"description": "a report to poke at"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def api_key(demo_db) -> str:
    from mapapp import open311
    from mapapp.core.db import transaction

    with transaction() as session:
        return open311.service.create_api_key(session, name="malformed input tests")


# --- report bodies --------------------------------------------------------------------------------

BAD_FIELDS = [
    ("NUL in email", {"email": "a\x00b@example.org"}, "invalid_contact"),
    ("NUL in address", {"lat": None, "lon": None, "address": "마포구\x00"}, "invalid_input"),
    ("NUL in description", {"description": "dark\x00"}, "invalid_input"),
    ("NUL in layer", {"layer": "facilities\x00"}, "invalid_input"),
    ("NUL in category", {"category": "\x00"}, "invalid_input"),
    ("NUL in phone", {"phone": "010 1234 5678\x00"}, "invalid_contact"),
    ("NUL in locale", {"locale": "ko\x00"}, "invalid_input"),
    ("NUL in lat", {"lat": "37.5\x00"}, "invalid_coordinates"),
    ("email is a number", {"email": 123}, "invalid_contact"),
    ("phone is a list", {"phone": ["010", "1234"]}, "invalid_contact"),
    ("description is an object", {"description": {"text": "x"}}, "invalid_input"),
    ("address is a bool", {"lat": None, "lon": None, "address": True}, "invalid_input"),
    ("locale is a list", {"locale": ["en"]}, "invalid_input"),
    ("layer is a number", {"layer": 5}, "missing_field"),
    ("lat is a list", {"lat": [37.5]}, "invalid_coordinates"),
    ("lon is an object", {"lon": {"v": 1}}, "invalid_coordinates"),
    ("lat is a bool", {"lat": True}, "invalid_coordinates"),
    ("a 400-digit latitude", {"lat": int("9" * 400)}, "invalid_coordinates"),
    ("a 400-digit latitude as text", {"lat": "9" * 400 + "e9999"}, "invalid_coordinates"),
    ("latitude 'nan' as text", {"lat": "nan"}, "invalid_coordinates"),
    ("longitude '-inf' as text", {"lon": "-inf"}, "invalid_coordinates"),
]


@pytest.mark.parametrize("fields", [c[1] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS])
def test_a_bad_field_is_a_422_in_our_shape_and_stores_nothing(client, demo_db, fields):
    code = next(c[2] for c in BAD_FIELDS if c[1] is fields)
    before = counts(demo_db)
    response = client.post(
        "/api/reports", content=json.dumps(GOOD | fields), headers={"content-type": "application/json"}
    )
    error = assert_our_error(response, 422, code)
    assert error["details"].get("field") in (None, *fields)
    assert counts(demo_db) == before


RAW_BODIES = [
    ("a lone surrogate in the description", b'"description": "dark \\ud800 here"', 422),
    ("a lone low surrogate in the email", b'"email": "a\\udc00@example.org"', 422),
    ("an escaped NUL in the address", b'"address": "\\u0000"', 422),
    ("NaN latitude", b'"lat": NaN', 422),
    ("Infinity longitude", b'"lon": -Infinity', 422),
]


@pytest.mark.parametrize("raw", [c[1] for c in RAW_BODIES], ids=[c[0] for c in RAW_BODIES])
def test_json_escapes_that_cannot_be_stored_are_refused(client, demo_db, raw):
    body = b'{"layer": "facilities", "category": "streetlight-out", "lat": 37.5663, "lon": 126.9016, ' + raw + b"}"
    before = counts(demo_db)
    response = client.post("/api/reports", content=body, headers={"content-type": "application/json"})
    assert_our_error(response, 422)
    assert counts(demo_db) == before


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'"text"', b"null", b"42", b"{nope", b"\xff\xfe", b"[" * 100_000, b""],
    ids=["array", "string", "null", "number", "invalid", "not UTF-8", "too deep", "empty"],
)
def test_a_body_that_is_not_a_json_object_is_refused(client, demo_db, body):
    before = counts(demo_db)
    response = client.post("/api/reports", content=body, headers={"content-type": "application/json"})
    assert_our_error(response, 422, "invalid_input")
    assert counts(demo_db) == before


def test_the_same_report_without_the_bad_bytes_is_accepted(client, demo_db):
    """The refusals above are about the bytes, not about the rest of the report."""
    response = client.post("/api/reports", json=GOOD | {"email": "ok@example.org", "description": "dark here"})
    assert response.status_code == 201, response.text


def test_an_idempotency_key_with_a_nul_byte_is_refused(client, demo_db):
    before = counts(demo_db)
    response = client.post("/api/reports", json=GOOD, headers={"Idempotency-Key": "abc\x00def"})
    assert_our_error(response, 400, "invalid_request")
    assert counts(demo_db) == before


# --- paths and query strings -------------------------------------------------------------------------

URLS = [
    "/api/reports/%00",
    "/api/reports/AB%00CD",
    "/api/reports?category=%00",
    "/api/reports?layer=facilities%00",
    "/api/reports?status=open%00",
    "/api/reports?bbox=126.9%00,37.5,127.1,37.6",
    "/api/reports/nearby?lat=37.5663&lon=126.9016&category=%00",
    "/api/reports/nearby?lat=37.5663&lon=126.9016&layer=%00",
    "/api/reports/nearby?lat=37.5%00&lon=126.9016&layer=facilities",
    "/api/reports?category=%ED%A0%80",  # a lone surrogate, as UTF-8 would spell it
    "/api/reports?category=%FF",  # not UTF-8 at all
    "/api/reports/%ED%A0%80",
    "/api/layers?x=%00",
]


@pytest.mark.parametrize("url", URLS)
def test_a_url_that_cannot_be_stored_is_a_400(client, url):
    assert_our_error(client.get(url), 400, "invalid_request")


def test_support_with_nul_in_the_path_or_the_token_changes_nothing(client, demo_db, report_id):
    before = counts(demo_db)
    assert_our_error(client.post("/api/reports/%00/support", json={"supporter": "browser-token-aaaa"}), 400)
    assert_our_error(client.post(f"/api/reports/{report_id}%00/support", json={"supporter": "token-aaaa"}), 400)
    for raw in (b'{"supporter": "browser\\ud800token"}', b'{"supporter": "browser\\u0000token"}', b"[1]", b"{x"):
        response = client.post(
            f"/api/reports/{report_id}/support", content=raw, headers={"content-type": "application/json"}
        )
        assert_our_error(response, 400, "invalid_request")
    assert_our_error(client.post(f"/api/reports/{report_id}/support", json={"supporter": 12345678}), 422)
    assert counts(demo_db) == before


def test_the_report_page_with_nul_is_a_400(client, report_id):
    assert_our_error(client.get("/reports/%00"), 400, "invalid_request")
    assert_our_error(client.get(f"/reports/{report_id}?lang=%00"), 400, "invalid_request")
    assert client.get(f"/reports/{report_id}").status_code == 200


# --- Open311 ---------------------------------------------------------------------------------------------

OPEN311_URLS = [
    "/open311/v2/requests/%00.json",
    "/open311/v2/request/%00.json",
    "/open311/v2/requests.json?service_request_id=%00",
    "/open311/v2/requests.json?service_code=pothole,%00",
    "/open311/v2/services/%00.json",
    "/open311/v2/tokens/%00.json",
    "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z%00",
]


@pytest.mark.parametrize("url", OPEN311_URLS)
def test_open311_urls_with_nul_are_400_in_open311s_shape(client, url):
    assert "NUL" in assert_open311_error(client.get(url), 400)
    xml = client.get(url.replace(".json", ".xml"))
    assert_open311_error(xml, 400, fmt="xml")


@pytest.mark.parametrize(
    "fields",
    [
        {"service_code": "pothole\x00"},
        {"description": "hole\x00"},
        {"email": "a\x00@example.org"},
        {"media_url": "https://example.org/\x00"},
        {"address_string": "마포구\x00", "lat": None, "long": None},
        {"lat": "37.5\x00"},
        {"jurisdiction_id\x00": "x"},
    ],
)
def test_open311_post_with_nul_is_400_and_stores_nothing(client, demo_db, api_key, fields):
    form = {"api_key": api_key, "service_code": "pothole", "lat": "37.5663", "long": "126.9016"} | fields
    before = counts(demo_db)
    response = client.post("/open311/v2/requests.json", data={k: v for k, v in form.items() if v is not None})
    assert_open311_error(response, 400)
    assert counts(demo_db) == before


def test_open311_framework_errors_keep_open311s_shape(client):
    assert_open311_error(client.get("/open311/v2/nothing/here.json"), 404)
    assert_open311_error(client.get("/open311/v2/nothing/here"), 404, fmt="xml")
    assert_open311_error(client.delete("/open311/v2/requests.json"), 405)


def test_open311_xml_never_carries_characters_xml_cannot_hold(client, api_key):
    form = {"api_key": api_key, "service_code": "pothole", "lat": "37.5663", "long": "126.9016"}
    created = client.post("/open311/v2/requests.json", data=form | {"description": "bell \x07 and \x0b tab"})
    assert created.status_code == 201, created.text
    [request] = created.json()
    xml = client.get(f"/open311/v2/requests/{request['service_request_id']}.xml")
    root = ET.fromstring(xml.content)  # raises on a control character in the document
    assert root.find("request/description").text == "bell  and  tab"


# --- Starlette's own errors, HEAD --------------------------------------------------------------------------


def test_unknown_api_paths_and_wrong_methods_answer_in_our_shape(client):
    assert_our_error(client.get("/api/nothing-here"), 404, "not_found")
    response = client.delete("/api/reports")
    error = assert_our_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == error["details"]["allow"] == "GET, POST"  # both routes of the path
    assert_our_error(client.put("/api/layers"), 405, "method_not_allowed")


def test_a_person_gets_a_page_and_a_program_gets_json(client):
    """Decision: a browser asking for a page gets a readable HTML 404; anything else, and /api/, get JSON."""
    page = client.get("/no-such-page", headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>" in page.text and "not_found" in page.text
    missing_report = client.get("/reports/NOSUCHREPORT", headers={"accept": "text/html"})
    assert missing_report.status_code == 404 and "report_not_found" in missing_report.text
    assert_our_error(client.get("/no-such-page"), 404, "not_found")
    assert_our_error(client.get("/api/nothing", headers={"accept": "text/html"}), 404, "not_found")


@pytest.mark.parametrize("path", ["/", "/embed", "/office", "/admin", "/api/layers", "/healthz", "/widget.js"])
def test_head_answers_like_get_without_a_body(client, path):
    get, head = client.get(path), client.head(path)
    assert get.status_code == 200 and head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_head_on_static_files_still_works_and_head_on_post_only_is_405(client):
    assert client.head("/static/vendor/leaflet/leaflet.js").status_code == 200
    post_only = client.head("/api/reports/XYZ/support")
    assert post_only.status_code == 405 and post_only.content == b"" and post_only.headers["allow"] == "POST"


def test_an_error_message_quoting_a_lone_surrogate_still_renders(client):
    """Messages quote input (the bad number); a surrogate in them used to break the JSON encoder."""
    body = b'{"layer": "facilities", "category": "streetlight-out", "lat": "\\ud800", "lon": 126.9}'
    response = client.post("/api/reports", content=body, headers={"content-type": "application/json"})
    assert_our_error(response, 422)


# --- a database outage, an unexpected exception -------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens once this socket is closed


@pytest.fixture
def app_on_a_dead_database(db_url):
    """A second app whose database is a closed port; the shared server is left alone."""
    from mapapp.app import create_app

    use_database(f"postgresql+psycopg2://nobody@127.0.0.1:{_closed_port()}/nothing")
    try:
        with TestClient(create_app(), raise_server_exceptions=True) as c:
            yield c
    finally:
        use_database(db_url)


@pytest.mark.parametrize(
    "method, url, kwargs",
    [
        ("GET", "/api/layers", {}),
        ("GET", "/api/reports", {}),
        ("GET", "/api/reports/ABCDEFGHJK", {}),
        ("POST", "/api/reports", {"json": GOOD}),
        ("POST", "/api/reports/ABCDEFGHJK/support", {"json": {"supporter": "browser-token-aaaa"}}),
        ("GET", "/healthz", {}),
    ],
)
def test_a_closed_database_port_is_a_503_with_retry_after(app_on_a_dead_database, method, url, kwargs):
    response = app_on_a_dead_database.request(method, url, **kwargs)
    assert_our_error(response, 503, "database_unavailable")
    assert int(response.headers["retry-after"]) > 0


def test_open311_during_an_outage_is_a_503_in_open311s_shape(app_on_a_dead_database):
    response = app_on_a_dead_database.get("/open311/v2/services.json")
    assert_open311_error(response, 503)
    assert int(response.headers["retry-after"]) > 0


def test_a_database_that_stops_taking_connections_mid_life_is_a_503_then_recovers(fresh_db):
    """Our own fresh database: connections refused and the pooled ones killed, then allowed again."""
    from mapapp.app import create_app

    name = fresh_db.rsplit("/", 1)[-1].split("?")[0]
    with TestClient(create_app()) as c:
        assert c.get("/api/layers").status_code == 200  # the pool now holds a live connection
        with _admin().connect() as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            admin.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
        try:
            for url in ("/api/layers", "/api/reports", "/healthz"):
                response = c.get(url)
                assert_our_error(response, 503, "database_unavailable")
                assert response.headers["retry-after"]
        finally:
            with _admin().connect() as admin:
                admin.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert c.get("/api/layers").status_code == 200
    core_db.get_engine(fresh_db).dispose()


def test_an_unexpected_exception_is_a_500_in_our_shape_with_the_traceback_in_the_log(demo_db, caplog):
    from mapapp.app import create_app

    app = create_app()

    @app.get("/api/test-boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app) as c, caplog.at_level(logging.ERROR, logger="mapapp.core.requests"):
        response = c.get("/api/test-boom")
    error = assert_our_error(response, 500, "internal_error")
    assert "hunter2" not in response.text and "Traceback" not in response.text and "RuntimeError" not in str(error)
    [record] = [r for r in caplog.records if r.name == "mapapp.core.requests"]
    assert "GET /api/test-boom" in record.getMessage()
    assert record.exc_info and "hunter2" in str(record.exc_info[1])


def test_a_database_error_that_is_not_an_outage_is_a_500_not_a_503(demo_db, caplog):
    from mapapp.app import create_app
    from mapapp.core.deps import SessionDep

    app = create_app()

    @app.get("/api/test-bad-sql")
    def bad_sql(session: SessionDep) -> None:
        session.execute(text("SELECT 1 / 0"))

    with TestClient(app) as c, caplog.at_level(logging.ERROR, logger="mapapp.core.requests"):
        response = c.get("/api/test-bad-sql")
    assert_our_error(response, 500, "internal_error")
    assert "retry-after" not in response.headers


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/auth/login", r'{"email": "a\u0000@example.org", "password": "x"}'),
        ("post", "/api/auth/login", r'{"email": "a@example.org", "password": "\ud800"}'),
        ("post", "/api/reports/NOSUCH/reopen", r'{"contact": "a\u0000@example.org"}'),
    ],
)
def test_staff_and_citizen_bodies_with_unstorable_text_are_422_not_500(client, method, url, body):
    headers = {"Content-Type": "application/json"}
    response = getattr(client, method)(url, content=body.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_request_that_finds_no_free_database_connection_is_a_503_busy(template_db, db_url, monkeypatch):
    """Every pooled connection taken (a stampede): the request waits the pool timeout, then 503 busy."""
    from fastapi.testclient import TestClient

    from mapapp.app import create_app
    from mapapp.core import db as core_db
    from tests.conftest import RUN_ID, clone_template

    # Named after the run, so that the session's clean-up drops it like every other test database.
    url = clone_template(template_db, f"mapapp_test_{RUN_ID}_pool_{uuid.uuid4().hex[:6]}")
    monkeypatch.setenv("MAPAPP_DATABASE_POOL_SIZE", "1")
    monkeypatch.setenv("MAPAPP_DATABASE_MAX_OVERFLOW", "0")
    monkeypatch.setenv("MAPAPP_DATABASE_POOL_TIMEOUT_SECONDS", "0.5")
    use_database(url)
    try:
        engine = core_db.get_engine(url)
        with engine.connect(), TestClient(create_app()) as client:
            response = client.get("/api/layers")
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "busy" and response.headers["retry-after"]
        with TestClient(create_app()) as client:
            assert client.get("/api/layers").status_code == 200  # the connection is back in the pool
    finally:
        core_db.get_engine(url).dispose()
        use_database(db_url)
