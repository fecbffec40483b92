"""Submitting reports over HTTP: JSON and multipart, photos, location, validation, idempotency."""

import threading

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import shared_data
from tests.factories import make_photo

MAPO = {"lat": 37.5663, "lon": 126.9016}  # inside the demo's Mapo-gu


def count(demo_db, sql="SELECT count(*) FROM reports", **params):
    engine = create_engine(demo_db)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar_one()
    finally:
        engine.dispose()


def post_json(client, **fields):
    body = {"layer": "facilities", "category": "streetlight-out", **MAPO} | fields
    return client.post("/api/reports", json={k: v for k, v in body.items() if v is not None})


def test_a_json_report_is_routed_and_readable(client, demo_db):
    response = post_json(client, description="가로등이 꺼져 있어요", email="citizen@example.org")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "routed" and body["office"]["slug"] == "11440-roads"
    assert body["tracking_url"].endswith(f"/reports/{body['id']}")
    assert "Mapo-gu (11440)" in body["routing"]["reason"]["en"] and "마포구" in body["routing"]["reason"]["ko"]
    assert body["location_source"] == "pin"

    detail = client.get(f"/api/reports/{body['id']}").json()
    props = detail["properties"]
    assert detail["geometry"] == {"type": "Point", "coordinates": [126.9016, 37.5663]}
    assert props["status"] == "routed" and props["description"] == "가로등이 꺼져 있어요"
    assert [e["kind"] for e in props["timeline"]] == ["submitted", "routed"]
    assert props["routing"]["rule"] == "streetlight-out → district/roads"
    assert props["office_name"]["ko"].startswith("마포구")


def test_multipart_with_a_project_made_geotagged_photo_and_no_pin(client, demo_db):
    photo = make_photo(lat=37.5172, lon=127.0473)  # Gangnam-gu
    response = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": "pothole", "description": "큰 구멍"},
        files=[("photos", ("road.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location_source"] == "photo" and body["office"]["slug"] == "11680-roads" and body["photos"] == 1
    props = client.get(f"/api/reports/{body['id']}").json()["properties"]
    assert len(props["photos"]) == 1
    shown = client.get(props["photos"][0]["url"])
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert client.get(props["photos"][0]["thumbnail"]).status_code == 200
    assert props["thumbnail"] == props["photos"][0]["thumbnail"]


def test_a_real_phone_photo_far_from_the_pin_is_kept_and_flagged_privately(client, demo_db):
    photo = shared_data("photos", "gps", "DSCN0010.jpg").read_bytes()  # Arezzo, Italy
    response = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": "damaged-sidewalk", **{k: str(v) for k, v in MAPO.items()}},
        files=[("photos", ("DSCN0010.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 201, response.text
    public_id = response.json()["id"]
    assert response.json()["location_source"] == "pin"
    flag = count(demo_db, "SELECT location_flag FROM reports WHERE public_id = :p", p=public_id)
    assert flag.startswith("photo GPS is") and "from the pin" in flag
    gps = count(
        demo_db,
        "SELECT p.gps_lat FROM photos p JOIN reports r ON r.id = p.report_id WHERE r.public_id = :p",
        p=public_id,
    )
    assert gps == pytest.approx(43.4674, abs=1e-3)
    assert "flag" not in response.text and "43.46" not in client.get(f"/api/reports/{public_id}").text


def test_a_photo_taken_abroad_without_a_pin_is_outside_the_service_area(client, demo_db):
    before = count(demo_db)
    photo = shared_data("photos", "gps", "DSCN0021.jpg").read_bytes()
    response = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": "pothole"},
        files=[("photos", ("a.jpg", photo, "image/jpeg"))],
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "outside_service_area"
    assert count(demo_db) == before


def _too_many_photos():
    return [("photos", (f"{i}.jpg", make_photo(size=(64, 64)), "image/jpeg")) for i in range(6)]


CASES = [
    ("missing layer", {"json": {"category": "pothole", **MAPO}}, 422, "missing_field"),
    ("missing category", {"json": {"layer": "facilities", **MAPO}}, 422, "missing_field"),
    ("unknown layer", {"json": {"layer": "volcano", "category": "pothole", **MAPO}}, 422, "unknown_layer"),
    ("unknown category", {"json": {"layer": "facilities", "category": "ufo", **MAPO}}, 422, "unknown_category"),
    (
        "category of another layer",
        {"json": {"layer": "facilities", "category": "blocked-storm-drain", **MAPO}},
        422,
        "category_not_in_layer",
    ),
    (
        "inactive disaster layer",
        {"json": {"layer": "flood", "category": "blocked-storm-drain", **MAPO}},
        409,
        "layer_inactive",
    ),
    (
        "latitude out of range",
        {"json": {"layer": "facilities", "category": "pothole", "lat": 91, "lon": 127}},
        422,
        "invalid_coordinates",
    ),
    (
        "latitude not finite",
        {"data": {"layer": "facilities", "category": "pothole", "lat": "NaN", "lon": "127"}},
        422,
        "invalid_coordinates",
    ),
    (
        "latitude not a number",
        {"data": {"layer": "facilities", "category": "pothole", "lat": "abc", "lon": "127"}},
        422,
        "invalid_coordinates",
    ),
    (
        "only one coordinate",
        {"json": {"layer": "facilities", "category": "pothole", "lat": 37.5}},
        422,
        "invalid_coordinates",
    ),
    (
        "outside the city",
        {"json": {"layer": "facilities", "category": "pothole", "lat": 35.18, "lon": 129.07}},
        422,
        "outside_service_area",
    ),
    ("no location at all", {"json": {"layer": "facilities", "category": "pothole"}}, 422, "location_required"),
    (
        "description too long",
        {"json": {"layer": "facilities", "category": "pothole", "description": "가" * 4001, **MAPO}},
        422,
        "description_too_long",
    ),
    (
        "bad e-mail",
        {"json": {"layer": "facilities", "category": "pothole", "email": "not-an-address", **MAPO}},
        422,
        "invalid_contact",
    ),
    (
        "too many photos",
        {
            "data": {"layer": "facilities", "category": "pothole", **{k: str(v) for k, v in MAPO.items()}},
            "files": "too_many",
        },
        422,
        "too_many_photos",
    ),
    (
        "a PDF as photo",
        {
            "data": {"layer": "facilities", "category": "pothole", **{k: str(v) for k, v in MAPO.items()}},
            "files": [("photos", ("x.jpg", b"%PDF-1.5\n" + b"x" * 500, "image/jpeg"))],
        },
        415,
        "unsupported_media_type",
    ),
    (
        "a broken photo",
        {
            "data": {"layer": "facilities", "category": "pothole", **{k: str(v) for k, v in MAPO.items()}},
            "files": [("photos", ("x.jpg", make_photo()[:3000], "image/jpeg"))],
        },
        422,
        "invalid_photo",
    ),
    ("not JSON", {"content": b"{nope", "headers": {"content-type": "application/json"}}, 422, "invalid_input"),
    (
        "plain text body",
        {"content": b"hello", "headers": {"content-type": "text/plain"}},
        415,
        "unsupported_media_type",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_a_specific_error_and_changes_nothing(client, demo_db, case):
    _, kwargs, status, code = case
    kwargs = dict(kwargs)
    if kwargs.get("files") == "too_many":
        kwargs["files"] = _too_many_photos()
    before = (count(demo_db), count(demo_db, "SELECT count(*) FROM photos"))
    response = client.post("/api/reports", **kwargs)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert (count(demo_db), count(demo_db, "SELECT count(*) FROM photos")) == before


def test_a_retry_with_the_same_idempotency_key_returns_the_same_report(client, demo_db):
    photo = make_photo(lat=37.5663, lon=126.9016)
    form = {"layer": "facilities", "category": "illegal-dumping", "description": "retry me"}
    before = count(demo_db), count(demo_db, "SELECT count(*) FROM photos")
    first = client.post(
        "/api/reports",
        data=form,
        files=[("photos", ("p.jpg", photo, "image/jpeg"))],
        headers={"Idempotency-Key": "retry-1"},
    )
    second = client.post(
        "/api/reports",
        data=form,
        files=[("photos", ("p.jpg", photo, "image/jpeg"))],
        headers={"Idempotency-Key": "retry-1"},
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and second.headers["Idempotent-Replayed"] == "true"
    assert (count(demo_db), count(demo_db, "SELECT count(*) FROM photos")) == (before[0] + 1, before[1] + 1)

    changed = client.post(
        "/api/reports", data=form | {"description": "something else"}, headers={"Idempotency-Key": "retry-1"}
    )
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "idempotency_key_reused"
    assert count(demo_db) == before[0] + 1


def test_concurrent_retries_with_one_key_make_one_report(client, demo_db):
    before = count(demo_db)
    results = []

    def send():
        body = {"layer": "facilities", "category": "pothole", "description": "at the same time", **MAPO}
        results.append(client.post("/api/reports", json=body, headers={"Idempotency-Key": "race-1"}))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert count(demo_db) == before + 1


def test_concurrent_distinct_reports_are_all_kept(client, demo_db):
    before = count(demo_db)
    results = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(post_json(client, description=f"report {i}")))
        for i in range(10)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 10
    assert count(demo_db) == before + 10
