"""Open data exports: public fields only, filtered like the map, formula-safe CSV, valid GeoJSON."""

import csv
import io
import json

import pytest

from tests.conftest import sql

SECRET_EMAIL = "export.secret@example.org"


def submit(client, **fields):
    body = {"layer": "facilities", "category": "pothole", "lat": 37.5663, "lon": 126.9016} | fields
    response = client.post("/api/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_has_every_report_with_public_fields_and_no_formula(client, demo_db):
    evil = submit(client, description='=HYPERLINK("http://evil.example","click")', email=SECRET_EMAIL)
    minus = submit(client, description="-2+3", lat=37.5172, lon=127.0473)
    everything = rows(client.get("/api/opendata/reports.csv"))
    assert len(everything) == sql(demo_db, "SELECT count(*) FROM reports")[0][0]
    by_id = {r["id"]: r for r in everything}
    assert by_id[evil]["description"] == '\'=HYPERLINK("http://evil.example","click")'
    assert by_id[minus]["description"] == "'-2+3"
    assert by_id[evil]["district"] == "11440" and by_id[evil]["district_en"] == "Mapo-gu"
    assert float(by_id[evil]["lat"]) == pytest.approx(37.5663) and float(by_id[minus]["lon"]) == pytest.approx(127.0473)
    assert by_id[evil]["status_group"] == "open" and by_id[evil]["due_at"]
    assert set(everything[0]) >= {"id", "category", "status", "office", "created_at", "resolved_at"}
    assert not {"email", "phone", "reporter_email", "reporter_phone"} & set(everything[0])
    text_out = client.get("/api/opendata/reports.csv").text
    assert SECRET_EMAIL not in text_out


def test_filters_are_the_maps(client, demo_db):
    mapo = submit(client, category="streetlight-out")
    gangnam = submit(client, category="streetlight-out", lat=37.5172, lon=127.0473)
    district = {r["id"] for r in rows(client.get("/api/opendata/reports.csv", params={"district": "11440"}))}
    assert mapo in district and gangnam not in district
    box = rows(client.get("/api/opendata/reports.csv", params={"bbox": "127.04,37.51,127.06,37.53"}))
    assert gangnam in {r["id"] for r in box} and all(127.04 <= float(r["lon"]) <= 127.06 for r in box)
    lights = rows(client.get("/api/opendata/reports.csv", params={"category": "streetlight-out", "status": "open"}))
    assert {r["category"] for r in lights} == {"streetlight-out"} and {r["status_group"] for r in lights} == {"open"}
    near = rows(client.get("/api/opendata/reports.csv", params={"lat": 37.5172, "lon": 127.0473, "radius": 30}))
    assert gangnam in {r["id"] for r in near} and mapo not in {r["id"] for r in near}


def test_geojson_is_one_feature_collection_with_the_same_reports(client, demo_db):
    response = client.get("/api/opendata/reports.geojson", params={"layer": "facilities"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    collection = json.loads(response.content)
    assert collection["type"] == "FeatureCollection"
    csv_ids = [r["id"] for r in rows(client.get("/api/opendata/reports.csv", params={"layer": "facilities"}))]
    assert [f["id"] for f in collection["features"]] == csv_ids
    feature = collection["features"][0]
    assert feature["geometry"]["type"] == "Point" and {"status", "category", "office"} <= set(feature["properties"])
    empty = json.loads(client.get("/api/opendata/reports.geojson", params={"bbox": "0,0,0.001,0.001"}).content)
    assert empty == {"type": "FeatureCollection", "features": []}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"layer": "nope"}, 422, "unknown_layer"),
        ({"district": "00000"}, 404, "unknown_jurisdiction"),
        ({"status": "lost"}, 422, "invalid_input"),
        ({"bbox": "1,2,3"}, 422, "invalid_input"),
        ({"lat": 37.5}, 422, "invalid_input"),
    ],
)
def test_bad_filters_are_refused_before_anything_streams(client, params, status, code):
    for path in ("/api/opendata/reports.csv", "/api/opendata/reports.geojson"):
        response = client.get(path, params=params)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
