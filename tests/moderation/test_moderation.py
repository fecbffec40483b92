"""Moderation over HTTP: a hidden report or photo leaves every public read (report page, GeoJSON, nearby,
tiles, Open311) and stays with staff; edited descriptions keep the original privately; held photos wait
for approval. Who may moderate what: the matrix."""

import math

import mapbox_vector_tile
import pytest

from tests.admin.people import WHO, auth, log_everyone_in, new_report
from tests.conftest import sql
from tests.factories import make_photo

LAT, LON = 37.5663, 126.9016  # Mapo-gu: a pothole goes to 11440-roads
AROUND = f"{LON - 0.003},{LAT - 0.003},{LON + 0.003},{LAT + 0.003}"  # a box for the exports


@pytest.fixture(scope="module")
def tokens(client, demo_db):
    return log_everyone_in(client)


def with_photos(client, n=2, category="pothole", lat=LAT, lon=LON, shade=90):
    files = [
        ("photos", (f"p{i}.jpg", make_photo(size=(320, 240), color=(40 * i, shade, 30)), "image/jpeg"))
        for i in range(n)
    ]
    answer = client.post(
        "/api/reports",
        data={"layer": "facilities", "category": category, "lat": str(lat), "lon": str(lon), "description": "구멍"},
        files=files,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def photo_ids(client, tokens, public_id):
    view = client.get(f"/api/moderation/reports/{public_id}", headers=auth(tokens, "admin")).json()
    return [p["id"] for p in view["photos"]]


def tile_of(lon, lat, z):
    n = 2**z
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)


def tile_ids(client, z=16):
    x, y = tile_of(LON, LAT, z)
    body = client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt").content
    layers = mapbox_vector_tile.decode(body) if body else {}
    return {f["properties"].get("id") for layer in layers.values() for f in layer["features"]}


def assert_cells_count_public_reports_only(demo_db):
    """At every stored level, the cluster counts per status are exactly the public reports per status."""
    from mapapp.tiles.models import LEVELS

    truth = dict(sql(demo_db, "SELECT status, count(*) FROM reports WHERE hidden_at IS NULL GROUP BY status"))
    for level in LEVELS:
        cells = dict(sql(demo_db, "SELECT status, sum(n) FROM tile_cells WHERE level = :l GROUP BY status", l=level))
        assert cells == truth, (level, cells, truth)


def public_reads(client, public_id):
    """Where anyone could see the report: True for each read that shows it."""
    collection = client.get("/api/reports", params={"limit": 10000}).json()["features"]
    nearby = client.get("/api/reports/nearby", params={"lat": LAT, "lon": LON, "category": "pothole", "radius": 200})
    return {
        "api": client.get(f"/api/reports/{public_id}").status_code == 200,
        "page": client.get(f"/reports/{public_id}").status_code == 200,
        "geojson": any(f["id"] == public_id for f in collection),
        "nearby": any(r["report"]["id"] == public_id for r in nearby.json()["reports"]),
        "tiles": public_id in tile_ids(client),
        "open311": client.get(f"/open311/v2/requests/{public_id}.json").status_code == 200,
        "open311 list": public_id in client.get("/open311/v2/requests.json").text,
        # The pieces built beside moderation: feeds, open data, alerts, the public list (mapapp.core.visibility).
        "atom feed": public_id in client.get("/feeds/reports.atom", params={"kind": "new"}).text,
        "csv export": public_id in client.get("/api/opendata/reports.csv", params={"bbox": AROUND}).text,
        "geojson export": public_id in client.get("/api/opendata/reports.geojson", params={"bbox": AROUND}).text,
        "alert preview": public_id
        in client.get("/api/alerts/preview", params={"lat": LAT, "lon": LON, "radius": 300}).json()["body"],
        "report list": f"/reports/{public_id}?" in client.get("/reports").text,
    }


# --- who may moderate -------------------------------------------------------------------------------

# A Mapo report: the city-wide roles and Mapo's own people may; Gangnam's may not; nobody logged in: 401.
EXPECTED = {
    "admin": 200,
    "triage": 200,
    "mapo_manager": 200,
    "mapo_staff": 200,
    "gangnam_manager": 403,
    "gangnam_staff": 403,
    None: 401,
}


@pytest.mark.parametrize("who", WHO, ids=[str(w) for w in WHO])
def test_authorization_matrix_of_moderation(client, tokens, demo_db, who):
    headers = auth(tokens, who)
    sql(demo_db, "UPDATE categories SET photo_approval_since = now() - interval '1 hour' WHERE slug = 'pothole'")
    try:
        check_the_matrix(client, tokens, demo_db, who, headers)
    finally:
        sql(demo_db, "UPDATE categories SET photo_approval_since = NULL WHERE slug = 'pothole'")


def check_the_matrix(client, tokens, demo_db, who, headers):
    public_id = with_photos(client, n=2)  # held for approval: its category asks for it
    first, second = photo_ids(client, tokens, public_id)
    admin = auth(tokens, "admin")
    client.post(f"/api/moderation/photos/{second}/hide", json={"reason": "setup"}, headers=admin)
    got = {
        "view": client.get(f"/api/moderation/reports/{public_id}", headers=headers).status_code,
        "worklist": client.get("/api/moderation/worklist", headers=headers).status_code,
        "hide photo": client.post(
            f"/api/moderation/photos/{first}/hide", json={"reason": "a face"}, headers=headers
        ).status_code,
        "unhide photo": client.post(f"/api/moderation/photos/{second}/unhide", json={}, headers=headers).status_code,
        "approve photo": client.post(f"/api/moderation/photos/{second}/approve", headers=headers).status_code,
        "edit text": client.post(
            f"/api/moderation/reports/{public_id}/description", json={"description": "구멍 (수정)"}, headers=headers
        ).status_code,
        "hide report": client.post(
            f"/api/moderation/reports/{public_id}/hide", json={"reason": "spam"}, headers=headers
        ).status_code,
        "unhide report": client.post(
            f"/api/moderation/reports/{public_id}/unhide", json={}, headers=headers
        ).status_code,
    }
    expected = EXPECTED[who]
    if who in ("gangnam_manager", "gangnam_staff"):
        assert got.pop("worklist") == 200  # their own office's list (empty of Mapo's)
    elif who is None:
        assert got.pop("worklist") == 401
    else:
        assert got.pop("worklist") == 200
    assert set(got.values()) == {expected}, got
    if expected != 200:  # refused means unchanged
        assert sql(demo_db, "SELECT hidden_at FROM photos WHERE id = :i", i=first)[0][0] is None
        assert sql(demo_db, "SELECT description FROM reports WHERE public_id = :p", p=public_id)[0][0] == "구멍"


# --- hiding a report --------------------------------------------------------------------------------


def test_a_hidden_report_leaves_every_public_read_and_stays_with_staff(client, tokens, demo_db):
    public_id = new_report(client, description="광고 스팸")
    assert all(public_reads(client, public_id).values()), public_reads(client, public_id)
    cells_before = sql(demo_db, "SELECT coalesce(sum(n), 0) FROM tile_cells WHERE level = 16")[0][0]

    refused = client.post(
        f"/api/moderation/reports/{public_id}/hide", json={"reason": " "}, headers=auth(tokens, "mapo_staff")
    )
    assert refused.status_code == 422 and refused.json()["error"]["details"]["field"] == "reason"
    hidden = client.post(
        f"/api/moderation/reports/{public_id}/hide", json={"reason": "advertising"}, headers=auth(tokens, "mapo_staff")
    )
    assert hidden.status_code == 200
    assert not any(public_reads(client, public_id).values()), public_reads(client, public_id)
    # "Me too" on it answers as for a report that does not exist, and counts nothing.
    unknown = client.post("/api/reports/NOSUCHREPORT/support", json={"supporter": "moderation-test-supporter"})
    me_too = client.post(f"/api/reports/{public_id}/support", json={"supporter": "moderation-test-supporter"})
    assert (me_too.status_code, me_too.json()["error"]["code"]) == (404, unknown.json()["error"]["code"])
    assert sql(demo_db, "SELECT support_count FROM reports WHERE public_id = :p", p=public_id)[0][0] == 0
    # The clusters below street zoom count it no more either (the tile triggers apply the same rule).
    assert sql(demo_db, "SELECT coalesce(sum(n), 0) FROM tile_cells WHERE level = 16")[0][0] == cells_before - 1

    staff = client.get(f"/api/moderation/reports/{public_id}", headers=auth(tokens, "mapo_manager")).json()
    assert staff["public"] is False and staff["hidden_reason"] == "advertising"
    assert [e["kind"] for e in staff["moderation"]] == ["report_hidden"]
    queue = client.get("/api/offices/11440-roads/queue", headers=auth(tokens, "mapo_manager")).json()["reports"]
    assert public_id in [r["id"] for r in queue]  # still the office's work
    worklist = client.get("/api/moderation/worklist", headers=auth(tokens, "mapo_manager")).json()["items"]
    assert any(i["id"] == public_id and i["state"] == "report_hidden" for i in worklist)
    twice = client.post(
        f"/api/moderation/reports/{public_id}/hide", json={"reason": "again"}, headers=auth(tokens, "admin")
    )
    assert twice.status_code == 409

    assert_cells_count_public_reports_only(demo_db)
    # Worked on while hidden, it still counts nowhere; shown again, it counts in its new status.
    moved = client.post(
        f"/api/reports/{public_id}/status", json={"to": "acknowledged"}, headers=auth(tokens, "mapo_manager")
    )
    assert moved.status_code == 200, moved.text
    assert_cells_count_public_reports_only(demo_db)
    assert (
        client.post(f"/api/moderation/reports/{public_id}/unhide", json={}, headers=auth(tokens, "admin")).status_code
        == 200
    )
    assert all(public_reads(client, public_id).values())
    assert sql(demo_db, "SELECT coalesce(sum(n), 0) FROM tile_cells WHERE level = 16")[0][0] == cells_before
    assert_cells_count_public_reports_only(demo_db)
    # The moderation entries are for staff: the public timeline does not show them.
    timeline = client.get(f"/api/reports/{public_id}").json()["properties"]["timeline"]
    assert [e["kind"] for e in timeline] == ["submitted", "routed", "status_changed"]
    assert "advertising" not in client.get(f"/reports/{public_id}?lang=en").text


# --- hiding one photo -------------------------------------------------------------------------------


def test_a_hidden_photo_leaves_the_public_report_and_its_thumbnail(client, tokens):
    public_id = with_photos(client, n=2, shade=17)  # photos of its own: no other report has these bytes
    first, second = photo_ids(client, tokens, public_id)
    props = client.get(f"/api/reports/{public_id}").json()["properties"]
    urls = [p["url"] for p in props["photos"]]
    assert len(urls) == 2 and props["thumbnail"] == props["photos"][0]["thumbnail"]
    answer = client.post(
        f"/api/moderation/photos/{first}/hide", json={"reason": "a face"}, headers=auth(tokens, "mapo_staff")
    )
    assert answer.status_code == 200

    props = client.get(f"/api/reports/{public_id}").json()["properties"]
    assert [p["url"] for p in props["photos"]] == urls[1:]
    assert props["thumbnail"] == props["photos"][0]["thumbnail"]  # the next photo stands in
    page = client.get(f"/reports/{public_id}").text
    assert urls[0].rsplit("/", 1)[-1] not in page and props["photos"][0]["thumbnail"] in page
    open311 = client.get(f"/open311/v2/requests/{public_id}.json").json()[0]
    assert open311["media_url"].endswith(urls[1])
    # The hidden photo's files are not served to the public any more (their address may have been copied);
    # a logged-in moderator still sees them.
    thumbs = [p["thumbnail"] for p in client.get(f"/api/reports/{public_id}").json()["properties"]["photos"]]
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[1]).status_code == 200 and client.get(thumbs[0]).status_code == 200
    from tests.admin.people import PASSWORD, PEOPLE

    client.post("/api/auth/login", json={"email": PEOPLE["mapo_staff"][0], "password": PASSWORD})
    assert client.get(urls[0]).status_code == 200
    client.cookies.clear()
    assert client.get(urls[0]).status_code == 404
    exported = client.get("/api/opendata/reports.geojson", params={"bbox": AROUND}).json()["features"]
    [feature] = [f for f in exported if f["id"] == public_id]
    # The open data thumbnail follows (feeds, alerts, the CSV and the public list carry no photo at all).
    assert feature["properties"]["thumbnail"] == props["thumbnail"]
    staff = client.get(f"/api/moderation/reports/{public_id}", headers=auth(tokens, "mapo_staff")).json()
    shown = {p["id"]: p for p in staff["photos"]}
    assert client.get(shown[first]["thumbnail"]).status_code == 404  # the thumbnail too
    # The same picture sent with another report is the same file: it stays served for that report.
    twin = with_photos(client, n=1, shade=17)
    assert client.get(urls[0]).status_code == 200
    assert [p["url"] for p in client.get(f"/api/reports/{twin}").json()["properties"]["photos"]] == urls[:1]
    assert shown[first]["public"] is False and shown[first]["hidden_reason"] == "a face" and shown[second]["public"]
    # Unhidden, it is back.
    assert (
        client.post(f"/api/moderation/photos/{first}/unhide", json={}, headers=auth(tokens, "admin")).status_code == 200
    )
    assert [p["url"] for p in client.get(f"/api/reports/{public_id}").json()["properties"]["photos"]] == urls
    assert client.get(urls[0]).status_code == 200


def test_an_edited_description_keeps_the_original_privately(client, tokens):
    public_id = new_report(client, description="010-1234-5678 로 연락 주세요. 구멍이 큽니다")
    edit = client.post(
        f"/api/moderation/reports/{public_id}/description",
        json={"description": "구멍이 큽니다", "reason": "phone number"},
        headers=auth(tokens, "mapo_manager"),
    )
    assert edit.status_code == 200
    public = client.get(f"/api/reports/{public_id}").json()
    assert public["properties"]["description"] == "구멍이 큽니다" and "010-1234" not in str(public)
    assert "010-1234" not in client.get(f"/reports/{public_id}").text
    assert "010-1234" not in client.get(f"/open311/v2/requests/{public_id}.json").text
    staff = client.get(f"/api/moderation/reports/{public_id}", headers=auth(tokens, "mapo_manager")).json()
    assert staff["original_description"].startswith("010-1234-5678") and staff["description"] == "구멍이 큽니다"
    # A second edit keeps the citizen's first words as the original.
    client.post(
        f"/api/moderation/reports/{public_id}/description",
        json={"description": "큰 구멍"},
        headers=auth(tokens, "admin"),
    )
    staff = client.get(f"/api/moderation/reports/{public_id}", headers=auth(tokens, "admin")).json()
    assert staff["original_description"].startswith("010-1234-5678")
    too_long = client.post(
        f"/api/moderation/reports/{public_id}/description",
        json={"description": "x" * 5000},
        headers=auth(tokens, "admin"),
    )
    assert too_long.status_code == 422 and too_long.json()["error"]["code"] == "description_too_long"


# --- photos held for approval -----------------------------------------------------------------------


def test_a_category_that_holds_photos_shows_them_only_once_approved(client, tokens, demo_db):
    early = with_photos(client, n=1, category="streetlight-out")  # before the setting: stays public
    sql(demo_db, "UPDATE categories SET photo_approval_since = now() WHERE slug = 'streetlight-out'")
    try:
        public_id = with_photos(client, n=1, category="streetlight-out")
        props = client.get(f"/api/reports/{public_id}").json()["properties"]
        assert props["photos"] == [] and props["thumbnail"] is None
        assert len(client.get(f"/api/reports/{early}").json()["properties"]["photos"]) == 1
        (photo,) = photo_ids(client, tokens, public_id)
        worklist = client.get("/api/moderation/worklist", headers=auth(tokens, "mapo_staff")).json()["items"]
        assert {"id": public_id, "photo_id": photo, "state": "photo_held"}.items() <= next(
            i for i in worklist if i["photo_id"] == photo
        ).items()
        assert worklist[0]["state"] == "photo_held"  # waiting photos come first
        assert (
            client.post(f"/api/moderation/photos/{photo}/approve", headers=auth(tokens, "mapo_staff")).status_code
            == 200
        )
        assert len(client.get(f"/api/reports/{public_id}").json()["properties"]["photos"]) == 1
        assert client.post(f"/api/moderation/photos/{photo}/approve", headers=auth(tokens, "admin")).status_code == 409
    finally:
        sql(demo_db, "UPDATE categories SET photo_approval_since = NULL WHERE slug = 'streetlight-out'")


def test_hold_photos_in_a_layer_file_is_synced(tmp_path, demo_db):
    from mapapp.core.db import transaction
    from mapapp.layers import service as layers
    from tests.conftest import PROJECT

    source = (PROJECT / "layers" / "facilities.yaml").read_text(encoding="utf-8")
    held = source.replace("    icon: lightbulb\n", "    icon: lightbulb\n    hold_photos: true\n", 1)
    assert held != source
    for name in ("flood.yaml", "slope.yaml"):
        (tmp_path / name).write_text((PROJECT / "layers" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "facilities.yaml").write_text(held, encoding="utf-8")
    with transaction() as session:
        layers.sync_layers(session, layers.load_layer_files(tmp_path))
    since = sql(demo_db, "SELECT photo_approval_since FROM categories WHERE slug = 'streetlight-out'")[0][0]
    assert since is not None
    with transaction() as session:  # synced again: the time it was switched on is kept
        layers.sync_layers(session, layers.load_layer_files(tmp_path))
    assert sql(demo_db, "SELECT photo_approval_since FROM categories WHERE slug = 'streetlight-out'")[0][0] == since
    with transaction() as session:
        layers.sync_layers(session, layers.load_layer_files(PROJECT / "layers"))
    assert sql(demo_db, "SELECT photo_approval_since FROM categories WHERE slug = 'streetlight-out'")[0][0] is None
