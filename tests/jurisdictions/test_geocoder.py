"""The optional geocoder (MAPAPP_GEOCODER_URL), against a real Nominatim-shaped server on loopback."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine, text

from mapapp.core.settings import get_settings

# 마포구청, as Nominatim answers it (strings, not numbers, for lat and lon).
MAPO_GU_OFFICE = {
    "place_id": 1,
    "lat": "37.5663174",
    "lon": "126.9019532",
    "display_name": "마포구청, 월드컵로, 성산동, 마포구, 서울, 03937, 대한민국",
    "category": "office",
    "type": "government",
}


class FakeNominatim:
    """A tiny http.server answering /search like Nominatim; it records what it was asked."""

    def __init__(self) -> None:
        self.answers: dict[str, object] = {}
        self.asked: list[dict[str, list[str]]] = []
        self.user_agents: list[str] = []
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                fake.asked.append(query)
                fake.user_agents.append(self.headers.get("User-Agent", ""))
                time.sleep(fake.delay)
                if url.path != "/search":
                    self.send_error(404)
                    return
                body = json.dumps(fake.answers.get(query.get("q", [""])[0], [])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    fake = FakeNominatim()
    yield fake
    fake.close()


@pytest.fixture
def geocoder_url(monkeypatch):
    def apply(url: str, timeout: str = "3") -> None:
        monkeypatch.setenv("MAPAPP_GEOCODER_URL", url)
        monkeypatch.setenv("MAPAPP_GEOCODER_TIMEOUT_SECONDS", timeout)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


def submit(client, address):
    return client.post("/api/reports", json={"layer": "facilities", "category": "pothole", "address": address})


def stored(demo_db, public_id):
    engine = create_engine(demo_db)
    try:
        with engine.connect() as conn:
            return (
                conn.execute(
                    text(
                        "SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, location_precision, address "
                        "FROM reports WHERE public_id = :p"
                    ),
                    {"p": public_id},
                )
                .mappings()
                .one()
            )
    finally:
        engine.dispose()


def test_an_address_naming_no_area_is_placed_by_the_geocoder(client, demo_db, nominatim, geocoder_url):
    geocoder_url(nominatim.url)
    nominatim.answers["월드컵로 212"] = [MAPO_GU_OFFICE]
    response = submit(client, "월드컵로 212")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location_precision"] == "geocoder" and body["location_source"] == "address"
    assert body["office"]["slug"] == "11440-roads" and body["place"]["ko"].startswith("마포구 ")
    row = stored(demo_db, body["id"])
    assert (row["lon"], row["lat"]) == pytest.approx((126.9019532, 37.5663174))
    assert row["location_precision"] == "geocoder" and row["address"] == "월드컵로 212"
    [query] = nominatim.asked
    assert query["q"] == ["월드컵로 212"] and query["format"] == ["jsonv2"] and query["limit"] == ["1"]
    assert nominatim.user_agents[0].startswith("mapapp")
    page = client.get(f"/reports/{body['id']}?lang=en").text
    assert "Located from the address by a geocoder" in page


def test_a_named_area_never_asks_the_geocoder(client, nominatim, geocoder_url):
    geocoder_url(nominatim.url)
    response = submit(client, "합정동 사거리")
    assert response.status_code == 201 and response.json()["location_precision"] == "dong"
    assert nominatim.asked == []


def test_an_empty_slow_or_absent_geocoder_leaves_the_address_refused(client, nominatim, geocoder_url):
    geocoder_url(nominatim.url)
    empty = submit(client, "nowhere at all")
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "address_not_found"
    assert len(nominatim.asked) == 1

    nominatim.delay = 2.0
    geocoder_url(nominatim.url, timeout="0.3")
    started = time.monotonic()
    slow = submit(client, "nowhere at all")
    assert slow.status_code == 422 and slow.json()["error"]["code"] == "address_not_found"
    assert time.monotonic() - started < 1.8  # the timeout, not the server's delay

    nominatim.delay = 0.0
    closed = FakeNominatim()
    closed.close()  # a port nobody listens on any more
    geocoder_url(closed.url)
    gone = submit(client, "nowhere at all")
    assert gone.status_code == 422 and gone.json()["error"]["code"] == "address_not_found"


def test_the_geocoder_is_off_by_default(client, nominatim):
    assert get_settings().geocoder_url == ""
    nominatim.answers["월드컵로 212"] = [MAPO_GU_OFFICE]
    response = submit(client, "월드컵로 212")
    assert response.status_code == 422 and response.json()["error"]["code"] == "address_not_found"
    assert nominatim.asked == []


def test_a_geocoder_answer_outside_the_city_is_refused_as_outside(client, nominatim, geocoder_url):
    geocoder_url(nominatim.url)
    nominatim.answers["Times Square"] = [{"lat": "40.7580", "lon": "-73.9855", "display_name": "Times Square"}]
    response = submit(client, "Times Square")
    assert response.status_code == 422 and response.json()["error"]["code"] == "outside_service_area"
