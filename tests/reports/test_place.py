"""A report's place (city, district, dong) over HTTP: recorded, shown on the page, in the queue, its CSV and
Open311; a typed address kept; text naming a dong or district locates the report with its precision, and
text naming neither is refused; the city's language and phone region are the defaults."""

import csv
import io

import pytest
from sqlalchemy import create_engine, text

from mapapp.accounts import service as accounts
from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from tests.factories import office_id

PASSWORD = "correct horse battery staple"


def sql(demo_db, query, **params):
    engine = create_engine(demo_db)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query), params).mappings().first()
    finally:
        engine.dispose()


def representative_point(demo_db, name_ko, district_code=None):
    """The area's ST_PointOnSurface, where a report located by its name must be."""
    return sql(
        demo_db,
        "SELECT j.id, ST_X(ST_PointOnSurface(j.geom)) AS lon, ST_Y(ST_PointOnSurface(j.geom)) AS lat "
        "FROM jurisdictions j LEFT JOIN jurisdictions p ON p.id = j.parent_id "
        "WHERE j.name_ko = :n AND (CAST(:d AS text) IS NULL OR p.code = :d)",
        n=name_ko,
        d=district_code,
    )


def stored(demo_db, public_id):
    return sql(
        demo_db,
        "SELECT r.address, r.location_precision, r.location_source, r.locale, r.reporter_phone, r.location_flag, "
        "g.name_ko AS dong, d.code AS district, ST_X(r.geom) AS lon, ST_Y(r.geom) AS lat "
        "FROM reports r LEFT JOIN jurisdictions g ON g.id = r.dong_id "
        "LEFT JOIN jurisdictions d ON d.id = r.district_id "
        "WHERE r.public_id = :p",
        p=public_id,
    )


def submit(client, **fields):
    body = {"layer": "facilities", "category": "streetlight-out"} | fields
    return client.post("/api/reports", json={k: v for k, v in body.items() if v is not None})


@pytest.fixture
def hapjeong(demo_db):
    return representative_point(demo_db, "합정동")


@pytest.fixture
def settings_env(monkeypatch):
    """Set MAPAPP_* variables for one test; the settings are read again, and restored after."""

    def apply(**values):
        for key, value in values.items():
            monkeypatch.setenv(f"MAPAPP_{key.upper()}", value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


# --- the place of a point ---------------------------------------------------------------------------


def test_the_place_of_a_point_in_both_languages(client, hapjeong):
    answer = client.get("/api/places", params={"lat": hapjeong["lat"], "lon": hapjeong["lon"]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["place"] == {"ko": "마포구 합정동", "en": "Hapjeong-dong, Mapo-gu"}
    assert body["dong"]["name"] == {"ko": "합정동", "en": "Hapjeong-dong"}
    assert body["district"] == {"code": "11440", "name": {"ko": "마포구", "en": "Mapo-gu"}}
    assert body["city"]["name"]["en"] == "Seoul"


def test_a_point_outside_the_city_has_no_place_and_bad_coordinates_are_refused(client):
    outside = client.get("/api/places", params={"lat": 40.75, "lon": -73.98}).json()
    assert outside == {"city": None, "district": None, "dong": None, "place": None}
    bad = client.get("/api/places", params={"lat": 95, "lon": 126.9})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_coordinates"


# --- recorded and shown --------------------------------------------------------------------------


def test_a_pinned_report_records_its_dong_and_shows_its_place_everywhere(client, demo_db, hapjeong):
    response = submit(client, lat=hapjeong["lat"], lon=hapjeong["lon"], locale="en")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["place"] == {"ko": "마포구 합정동", "en": "Hapjeong-dong, Mapo-gu"}
    assert body["location_precision"] == "point"
    row = stored(demo_db, body["id"])
    assert row["dong"] == "합정동" and row["district"] == "11440" and row["address"] is None

    props = client.get(f"/api/reports/{body['id']}").json()["properties"]
    assert props["place"] == body["place"] and props["address"] is None
    page = client.get(f"/reports/{body['id']}?lang=ko").text
    assert "마포구 합정동" in page and "Hapjeong-dong, Mapo-gu" in page
    assert 'id="precision"' not in page  # a pin is exact: no warning

    # Open311: no typed address, so the place, in the request's language.
    for locale, place in body["place"].items():
        [one] = client.get(f"/open311/v2/requests/{body['id']}.json", params={"locale": locale}).json()
        assert one["address"] == place


def test_a_typed_address_is_kept_and_shown_beside_the_pin(client, demo_db, hapjeong):
    typed = "양화로 45 앞 버스정류장"
    response = submit(client, lat=hapjeong["lat"], lon=hapjeong["lon"], address=typed)
    assert response.status_code == 201, response.text
    public_id = response.json()["id"]
    row = stored(demo_db, public_id)
    assert row["address"] == typed and row["location_source"] == "pin" and row["location_precision"] == "point"
    assert client.get(f"/api/reports/{public_id}").json()["properties"]["address"] == typed
    page = client.get(f"/reports/{public_id}?lang=en").text
    assert typed in page and "Address given" in page
    [one] = client.get(f"/open311/v2/requests/{public_id}.json").json()
    assert one["address"] == typed  # what the citizen gave wins over the place's name


@pytest.fixture(scope="module")
def mapo_manager(client, demo_db):
    with transaction() as session:
        accounts.create_user(
            session,
            email="place@mapo.example",
            name="place",
            role="manager",
            password=PASSWORD,
            office_id=office_id(session, "11440-roads"),
        )
    response = client.post("/api/auth/login", json={"email": "place@mapo.example", "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_the_office_queue_and_its_csv_show_place_address_and_precision(client, mapo_manager):
    response = submit(client, address="합정동 가로등", description="queue place")
    assert response.status_code == 201, response.text
    public_id = response.json()["id"]
    queue = client.get("/api/offices/11440-roads/queue", headers=mapo_manager).json()
    [row] = [r for r in queue["reports"] if r["id"] == public_id]
    assert row["place_ko"] == "마포구 합정동" and row["place_en"] == "Hapjeong-dong, Mapo-gu"
    assert row["address"] == "합정동 가로등" and row["location_precision"] == "dong"
    export = client.get("/api/offices/11440-roads/queue.csv", headers=mapo_manager)
    assert export.status_code == 200
    [line] = [r for r in csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))) if r["id"] == public_id]
    assert line["place_ko"] == "마포구 합정동" and line["place_en"] == "Hapjeong-dong, Mapo-gu"
    assert line["address"] == "합정동 가로등" and line["location_precision"] == "dong"


# --- text → area ---------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["마포구 합정동", "합정동", "Hapjeong-dong", "hapjeong", "서울 마포구 합정동 369"])
def test_text_naming_a_dong_locates_the_report_at_the_dong(client, demo_db, hapjeong, address):
    response = submit(client, address=address, locale="ko")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location_source"] == "address" and body["location_precision"] == "dong"
    assert body["place"]["ko"] == "마포구 합정동" and body["office"]["slug"] == "11440-roads"
    row = stored(demo_db, body["id"])
    assert (row["lon"], row["lat"]) == pytest.approx((hapjeong["lon"], hapjeong["lat"]), abs=1e-9)
    assert row["dong"] == "합정동" and row["address"] == address
    assert row["location_flag"] is None  # no more "check it": the precision says what is known
    page = client.get(f"/reports/{body['id']}?lang=ko").text
    assert "동 이름으로 찾은 위치로, 정확한 지점이 아닙니다" in page
    assert "Located by dong name, not exact" in client.get(f"/reports/{body['id']}?lang=en").text


@pytest.mark.parametrize("address", ["Mapo-gu", "마포구 월드컵북로 400", "mapo"])
def test_text_naming_only_a_district_locates_at_the_district(client, demo_db, address):
    response = submit(client, address=address)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["location_precision"] == "district" and body["place"] == {"ko": "마포구", "en": "Mapo-gu"}
    row = stored(demo_db, body["id"])
    mapo = representative_point(demo_db, "마포구")
    assert (row["lon"], row["lat"]) == pytest.approx((mapo["lon"], mapo["lat"]), abs=1e-9)
    assert row["dong"] is None  # the district is all that is known
    assert "Located by district name, not exact" in client.get(f"/reports/{body['id']}?lang=en").text


@pytest.mark.parametrize("address", ["월드컵북로 400 앞", "somewhere nice", "123"])
def test_text_naming_no_area_is_refused_never_placed_at_random(client, demo_db, address):
    before = sql(demo_db, "SELECT count(*) AS n FROM reports")["n"]
    response = submit(client, address=address)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "address_not_found" and error["details"]["field"] == "address"
    assert "pick the point on the map" in error["message"] and "coordinates" in error["message"]
    assert sql(demo_db, "SELECT count(*) AS n FROM reports")["n"] == before


def test_a_dong_name_two_districts_share_asks_for_the_district(client, demo_db):
    response = submit(client, address="신사동")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "address_ambiguous"
    assert [c["place"]["ko"] for c in error["details"]["candidates"]] == ["관악구 신사동", "강남구 신사동"]
    for address, district in (("강남구 신사동", "11680"), ("Sinsa-dong, Gwanak-gu", "11620")):
        located = submit(client, address=address)
        assert located.status_code == 201, located.text
        row = stored(demo_db, located.json()["id"])
        assert row["district"] == district and row["dong"] == "신사동"
    # A legal dong split into administrative ones: 역삼동 is 역삼1동 or 역삼2동.
    split = submit(client, address="역삼동").json()["error"]
    assert split["code"] == "address_ambiguous"
    assert {c["place"]["ko"] for c in split["details"]["candidates"]} == {"강남구 역삼1동", "강남구 역삼2동"}


# --- the city's language and phone region ------------------------------------------------------------


@pytest.mark.parametrize("default", ["en", "ko"])
def test_an_api_report_without_a_locale_is_stored_in_the_citys_language(client, demo_db, settings_env, default):
    settings_env(default_locale=default)
    response = submit(client, lat=37.5663, lon=126.9016, email="lang@example.org")
    assert response.status_code == 201, response.text
    assert stored(demo_db, response.json()["id"])["locale"] == default
    # The page's language, sent by the form, wins.
    other = "ko" if default == "en" else "en"
    sent = submit(client, lat=37.5663, lon=126.9016, locale=other)
    assert stored(demo_db, sent.json()["id"])["locale"] == other


@pytest.mark.parametrize(
    "region, phone, e164",
    [
        ("US", "(212) 555-0100", "+12125550100"),
        ("KR", "010-1234-5678", "+821012345678"),
        ("KR", "+1 212 555 0100", "+12125550100"),
        ("US", "+82 10-1234-5678", "+821012345678"),
    ],
)
def test_phone_numbers_are_read_in_the_citys_region_and_stored_as_e164(
    client, demo_db, settings_env, region, phone, e164
):
    settings_env(phone_region=region)
    response = submit(client, lat=37.5663, lon=126.9016, phone=phone)
    assert response.status_code == 201, response.text
    assert stored(demo_db, response.json()["id"])["reporter_phone"] == e164


@pytest.mark.parametrize(
    "region, phone", [("KR", "(212) 555-0100"), ("US", "010-1234-5678"), ("KR", "12345"), ("KR", "call me")]
)
def test_a_phone_number_invalid_in_the_region_is_refused(client, settings_env, region, phone):
    settings_env(phone_region=region)
    response = submit(client, lat=37.5663, lon=126.9016, phone=phone)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_contact"
    assert response.json()["error"]["details"]["field"] == "phone"
