"""Public reads: GeoJSON with paging, nearby, "me too", and no private field anywhere."""

import json

from tests.conftest import sql
from tests.factories import make_photo

SECRET_EMAIL, SECRET_PHONE = "hidden.reporter@example.org", "010-9876-5432"
SECRET_NOTE = "PRIVATE-NOTE-7731"


def submit(client, **fields):
    body = {"layer": "facilities", "category": "streetlight-out", "lat": 37.5500, "lon": 127.0000} | fields
    response = client.post("/api/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_geojson_is_rfc7946_with_public_fields_filters_and_pages(client, demo_db):
    response = client.get("/api/reports", params={"bbox": "126.7,37.4,127.2,37.7", "limit": 25})
    assert response.status_code == 200 and response.headers["content-type"] == "application/geo+json"
    page = response.json()
    assert page["type"] == "FeatureCollection" and len(page["features"]) == 25
    feature = page["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    assert {"status", "status_group", "category", "color", "supporters"} <= set(feature["properties"])

    seen, url, pages = [], "/api/reports?bbox=126.7,37.4,127.2,37.7&limit=25", 0
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body.get("links", []) if link["rel"] == "next"), None)
        pages += 1
    total = sql(demo_db, "SELECT count(*) FROM reports")[0][0]
    assert len(seen) == len(set(seen)) == total and pages == -(-total // 25)

    tiny = client.get("/api/reports", params={"bbox": "126.90,37.56,126.91,37.57"}).json()
    for f in tiny["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert 126.90 <= lon <= 126.91 and 37.56 <= lat <= 37.57
    resolved = client.get("/api/reports", params={"status": "resolved"}).json()
    assert resolved["features"] and {f["properties"]["status"] for f in resolved["features"]} == {"resolved"}
    assert (
        client.get("/api/reports", params={"category": "pothole"}).json()["features"][0]["properties"]["category"]
        == "pothole"
    )


def test_bad_list_parameters_are_refused(client):
    for params, field in (
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "127,37,126,38"}, "bbox"),
        ({"status": "lost"}, "status"),
        ({"cursor": "!!"}, "cursor"),
    ):
        response = client.get("/api/reports", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["details"]["field"] == field
    assert client.get("/api/reports", params={"limit": 0}).status_code == 422


def test_nearby_lists_open_reports_of_the_category_nearest_first(client, demo_db):
    near = submit(client, category="manhole-cover", lat=37.6000, lon=127.0500)
    nearer = submit(client, category="manhole-cover", lat=37.60005, lon=127.0500)
    closed = submit(client, category="manhole-cover", lat=37.60001, lon=127.0500)
    sql(demo_db, "UPDATE reports SET status = 'closed', close_reason = 'duplicate' WHERE public_id = :p", p=closed)
    submit(client, category="pothole", lat=37.60002, lon=127.0500)

    body = client.get(
        "/api/reports/nearby", params={"lat": 37.60006, "lon": 127.05, "category": "manhole-cover"}
    ).json()
    ids = [item["report"]["id"] for item in body["reports"]]
    assert ids == [nearer, near] and body["radius_m"] == 30  # the category's own radius
    assert body["reports"][0]["distance_m"] < body["reports"][1]["distance_m"]
    wide = client.get(
        "/api/reports/nearby", params={"lat": 37.60006, "lon": 127.05, "layer": "facilities", "radius": 100}
    ).json()
    assert len(wide["reports"]) >= 3
    assert (
        client.get(
            "/api/reports/nearby", params={"lat": 37.6, "lon": 127.05, "category": "manhole-cover", "radius": 100000}
        ).status_code
        == 422
    )


def test_me_too_counts_each_person_once(client, demo_db):
    public_id = submit(client, category="pothole")
    first = client.post(f"/api/reports/{public_id}/support", json={"supporter": "browser-token-aaaa"})
    again = client.post(f"/api/reports/{public_id}/support", json={"supporter": "browser-token-aaaa"})
    other = client.post(f"/api/reports/{public_id}/support", json={"supporter": "browser-token-bbbb"})
    assert (first.json()["supporters"], again.json()["supporters"], other.json()["supporters"]) == (1, 1, 2)
    assert again.json()["added"] is False
    assert client.get(f"/api/reports/{public_id}").json()["properties"]["supporters"] == 2
    sql(demo_db, "UPDATE reports SET status = 'resolved' WHERE public_id = :p", p=public_id)
    closed = client.post(f"/api/reports/{public_id}/support", json={"supporter": "browser-token-cccc"})
    assert closed.status_code == 409 and closed.json()["error"]["code"] == "report_closed"
    assert client.post("/api/reports/NOPE/support", json={"supporter": "browser-token-aaaa"}).status_code == 404
    assert client.post(f"/api/reports/{public_id}/support", json={}).status_code == 422


def test_no_public_response_reveals_contact_photo_gps_or_private_notes(client, demo_db):
    photo = make_photo(lat=37.512345, lon=127.054321)
    response = client.post(
        "/api/reports",
        data={
            "layer": "facilities",
            "category": "pothole",
            "lat": "37.5172",
            "lon": "127.0473",
            "email": SECRET_EMAIL,
            "phone": SECRET_PHONE,
        },
        files=[("photos", ("p.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 201
    public_id = response.json()["id"]
    sql(
        demo_db,
        "INSERT INTO report_events (report_id, kind, actor, public_note, private_note) "
        "SELECT id, 'note', 'staff', 'public words', :n FROM reports WHERE public_id = :p",
        n=SECRET_NOTE,
        p=public_id,
    )
    outputs = [
        response.text,
        client.get(f"/api/reports/{public_id}").text,
        client.get("/api/reports", params={"limit": 5000}).text,
        client.get("/api/reports/nearby", params={"lat": 37.5172, "lon": 127.0473, "layer": "facilities"}).text,
        client.get("/api/layers").text,
        client.get("/open311/v2/requests.json").text,
        client.get("/open311/v2/requests.xml").text,
        client.get(f"/open311/v2/requests/{public_id}.json").text,
        client.get(f"/reports/{public_id}").text,
        # Issue 12: the feeds, the CAP index, the open data exports, the alert e-mail preview and the alerts page.
        client.get("/feeds/reports.atom").text,
        client.get("/feeds/reports.atom", params={"district": "11680", "lang": "en"}).text,
        client.get("/feeds/reports.atom", params={"lat": 37.5172, "lon": 127.0473, "radius": 100}).text,
        client.get("/feeds/cap.atom").text,
        client.get("/api/opendata/reports.csv").text,
        client.get("/api/opendata/reports.geojson").text,
        client.get("/api/alerts/preview", params={"lat": 37.5172, "lon": 127.0473, "radius": 100}).text,
        client.get("/alerts", params={"lat": 37.5172, "lon": 127.0473}).text,
        # Issue 12: the public list (the new report is on its first page), the dashboard and its API.
        client.get("/reports").text,
        client.get("/reports", params={"q": "Gangnam", "lang": "en"}).text,
        client.get("/stats").text,
        client.get("/api/stats").text,
    ]
    # The new outputs do carry the report (else the scan would prove nothing about them).
    assert all(public_id in out for i, out in enumerate(outputs[9:17]) if i not in (3, 7))
    photo_urls = json.loads(outputs[1])["properties"]["photos"]
    images = [client.get(p["url"]).content + client.get(p["thumbnail"]).content for p in photo_urls]
    for text_out in outputs:
        for secret in (
            SECRET_EMAIL,
            SECRET_PHONE,
            "+821098765432",  # the phone as stored (E.164)
            "98765432",
            SECRET_NOTE,
            "37.512345",
            "127.054321",
            "37.5123",
            "hidden.reporter",
        ):
            assert secret not in text_out
    assert "public words" in outputs[1]
    for blob in images:
        assert b"Exif" not in blob and b"GPS" not in blob
