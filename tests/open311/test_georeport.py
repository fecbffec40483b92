"""Open311 GeoReport v2: the spec's resources in JSON and XML, its errors, and real clients by others."""

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import create_engine, text

from mapapp.core.db import transaction
from mapapp.open311 import service as open311


@pytest.fixture(scope="module")
def api_key(demo_db):
    with transaction() as session:
        return open311.create_api_key(session, name="test client")


def post(client, key, fmt="json", **fields):
    form = {
        "api_key": key,
        "service_code": "streetlight-out",
        "lat": "37.5663",
        "long": "126.9016",
        "description": "Light is out on the corner",
        "email": "open311.user@example.org",
    } | fields
    return client.post(f"/open311/v2/requests.{fmt}", data={k: v for k, v in form.items() if v is not None})


def test_discovery_and_service_list_in_both_formats(client):
    discovery = client.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    services = client.get("/open311/v2/services.json", params={"locale": "en"}).json()
    codes = {s["service_code"] for s in services}
    assert "streetlight-out" in codes and "blocked-storm-drain" not in codes  # flood layer is off
    light = next(s for s in services if s["service_code"] == "streetlight-out")
    assert light["group"] == "City facilities" and light["type"] == "realtime" and light["metadata"] is False

    xml = client.get("/open311/v2/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    assert xml.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(xml.content)
    assert root.tag == "services" and len(root.findall("service")) == len(services)
    assert root.find("service/metadata").text == "false"
    definition = client.get("/open311/v2/services/streetlight-out.xml")
    assert ET.fromstring(definition.content).find("service_code").text == "streetlight-out"


def test_post_then_read_back_in_json_and_xml(client, api_key, demo_db):
    created = post(client, api_key, locale="en")
    assert created.status_code == 201, created.text
    [answer] = created.json()
    request_id = answer["service_request_id"]
    assert "Mapo-gu" in answer["service_notice"]

    [one] = client.get(f"/open311/v2/requests/{request_id}.json", headers={"Accept-Language": "en-US"}).json()
    assert one["status"] == "open" and one["service_code"] == "streetlight-out"
    assert one["agency_responsible"].startswith("Mapo-gu") and one["lat"] == 37.5663 and one["long"] == 126.9016
    assert one["requested_datetime"].endswith("Z") and one["expected_datetime"]
    assert "open311.user@example.org" not in created.text + str(one)

    xml = ET.fromstring(client.get(f"/open311/v2/requests/{request_id}.xml").content)
    assert xml.tag == "service_requests" and xml.find("request/service_request_id").text == request_id
    assert client.get(f"/open311/v2/request/{request_id}.json").json()[0]["service_request_id"] == request_id

    engine = create_engine(demo_db)
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT channel FROM reports WHERE public_id = :p"), {"p": request_id}).scalar()
    engine.dispose()
    assert channel == "open311"

    token = client.get(f"/open311/v2/tokens/{request_id}.json").json()
    assert token == [{"service_request_id": request_id, "token": request_id}]


def test_requests_filters(client, api_key):
    [created] = post(client, api_key, service_code="pothole").json()
    listed = client.get("/open311/v2/requests.json", params={"service_code": "pothole", "status": "open"}).json()
    assert created["service_request_id"] in [r["service_request_id"] for r in listed]
    assert {r["service_code"] for r in listed} == {"pothole"} and {r["status"] for r in listed} == {"open"}
    closed = client.get("/open311/v2/requests.json", params={"status": "closed"}).json()
    assert closed and {r["status"] for r in closed} == {"closed"}
    by_id = client.get("/open311/v2/requests.json", params={"service_request_id": created["service_request_id"]})
    assert len(by_id.json()) == 1
    future = client.get("/open311/v2/requests.json", params={"start_date": "2099-01-01T00:00:00Z"}).json()
    assert future == []


def test_address_string_and_media_url(client, api_key, demo_db):
    created = post(
        client,
        api_key,
        lat=None,
        long=None,
        address_string="서울 마포구 월드컵로 1",
        media_url="https://example.org/photo.jpg",
    )
    assert created.status_code == 201, created.text
    request_id = created.json()[0]["service_request_id"]
    [one] = client.get(f"/open311/v2/requests/{request_id}.json").json()
    # The address the client sent, not the district's name.
    assert one["address"] == "서울 마포구 월드컵로 1" and one["media_url"] == "https://example.org/photo.jpg"
    unknown = post(client, api_key, lat=None, long=None, address_string="somewhere nice")
    assert unknown.status_code == 400 and unknown.json()[0]["code"] == 400


@pytest.mark.parametrize(
    "fields, fmt, status, words",
    [
        ({"api_key": None}, "json", 403, "api_key is required"),
        ({"api_key": "wrong-key"}, "xml", 403, "invalid api_key"),
        ({"service_code": None}, "json", 400, "service_code was not provided"),
        ({"service_code": "unicorns"}, "json", 404, "not found"),
        ({"lat": None, "long": None}, "json", 400, "a location is required"),
        ({"lat": "91"}, "json", 400, "latitude"),
        ({"lat": "35.18", "long": "129.07"}, "xml", 400, "outside the area"),
        ({"jurisdiction_id": "elsewhere.gov"}, "json", 404, "jurisdiction_id"),
        ({"media_url": "javascript:alert(1)"}, "json", 400, "media_url"),
    ],
)
def test_errors_follow_the_spec(client, api_key, demo_db, fields, fmt, status, words):
    engine = create_engine(demo_db)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    response = post(client, api_key, fmt=fmt, **fields)
    assert response.status_code == status, response.text
    if fmt == "json":
        [error] = response.json()
        code, description = error["code"], error["description"]
    else:
        node = ET.fromstring(response.content).find("error")
        code, description = int(node.find("code").text), node.find("description").text
    assert code == status and words in description
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar_one() == before
    engine.dispose()


def test_unknown_things_are_404_in_the_spec_format(client):
    assert client.get("/open311/v2/requests/NOPE.json").status_code == 404
    assert client.get("/open311/v2/services/nope.json").json()[0]["code"] == 404
    assert client.get("/open311/v2/services.yaml").status_code == 404
    bad = client.get("/open311/v2/requests.json", params={"start_date": "yesterday"})
    assert bad.status_code == 400


def test_real_open311_clients_list_post_and_read_back(live_server, api_key):
    """civicbot's and georeport's clients, written by others, against the running server."""
    from civicbot.http import HttpTransport, RateLimiter
    from civicbot.open311 import Open311Client
    from civicbot.registry import Endpoint
    from georeport import GeoReport

    endpoint = Endpoint(id="mapapp", name="mapapp", base_url=f"{live_server}/open311/v2", write=True)
    civic = Open311Client(endpoint, transport=HttpTransport(rate_limiter=RateLimiter(min_interval=0)))
    services = civic.list_services()
    assert "streetlight-out" in {s["service_code"] for s in services}
    prepared = civic.create_request(
        "pothole",
        dry_run=False,
        confirm="SEND",
        api_key=api_key,
        lat=37.5172,
        lng=127.0473,
        description="Deep pothole in the right lane",
        validate_remote=True,
    )
    request_id = prepared.response[0]["service_request_id"]
    assert civic.get_request(request_id)["service_code"] == "pothole"

    for output_format in ("json", "xml"):
        geo = GeoReport(f"{live_server}/open311/v2", output_format=output_format)
        assert any(s["service_code"] == "pothole" for s in geo.get_service_list())
        read = geo.get_service_request(request_id)
        assert read["service_request_id"] == request_id and read["status"] == "open"
        # These clients send no language: the city's default (Korean for Seoul), in one language only.
        assert read["agency_responsible"].startswith("강남구")
