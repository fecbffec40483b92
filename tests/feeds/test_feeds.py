"""Atom feeds of new and resolved reports per layer, district, office and point; the CAP 1.2 alert of an
active disaster layer, validated against the OASIS schema; feed autodiscovery on the map page."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from mapapp.core.actors import Actor
from mapapp.core.db import transaction
from mapapp.layers import service as layers
from tests.conftest import sql

ATOM = "{http://www.w3.org/2005/Atom}"
CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
CAP_XSD = Path(__file__).with_name("CAP-v1.2.xsd")
ADMIN = Actor(user_id=0, email="admin@city.example", role="admin", office_id=None)
MAPO = {"lat": 37.5663, "lon": 126.9016}  # in Mapo-gu (11440)


def submit(client, **fields):
    body = {"layer": "facilities", "category": "pothole", **MAPO, "description": "Deep hole by the bus stop"} | fields
    response = client.post("/api/reports", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def resolve(url, public_id, answer):
    sql(
        url,
        "UPDATE reports SET status = 'resolved', resolved_at = now(), updated_at = now() WHERE public_id = :p",
        p=public_id,
    )
    sql(
        url,
        "INSERT INTO report_events (report_id, kind, from_status, to_status, actor, public_note, private_note) "
        "SELECT id, 'status_changed', 'in_progress', 'resolved', 'staff', :a, 'PRIVATE-FEED-NOTE' FROM reports "
        "WHERE public_id = :p",
        a=answer,
        p=public_id,
    )


def valid_atom(body: bytes) -> etree._Element:
    """Well-formed Atom 1.0 with the elements RFC 4287 requires, and no complaint from feedparser."""
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    root = etree.fromstring(body)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, f"feed without atom:{name}"
    assert root.find(f"{ATOM}link[@rel='self']") is not None
    ids = []
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "summary"):
            assert entry.find(f"{ATOM}{name}") is not None, f"entry without atom:{name}"
        assert entry.find(f"{ATOM}link[@rel='alternate']") is not None
        ids.append(entry.findtext(f"{ATOM}id"))
        updated = entry.findtext(f"{ATOM}updated")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)", updated), updated
    assert len(ids) == len(set(ids)), "an entry id twice"
    return root


def entry_ids(root) -> list[str]:
    return [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]


def test_feeds_per_layer_district_office_and_point_validate_and_hold_the_right_reports(client, demo_db):
    mapo = submit(client, description="Mapo hole")
    gangnam = submit(client, lat=37.5172, lon=127.0473, description="Gangnam hole")
    resolve(demo_db, mapo, "Patched on Tuesday.")

    everything = client.get("/feeds/reports.atom", params={"lang": "en"})
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("application/atom+xml")
    root = valid_atom(everything.content)
    ids = entry_ids(root)
    assert any(i.endswith(f"/reports/{mapo}#new") for i in ids)
    assert any(i.endswith(f"/reports/{mapo}#resolved") for i in ids)
    assert len(ids) <= 50

    district = valid_atom(client.get("/feeds/reports.atom", params={"district": "11440", "lang": "ko"}).content)
    ids = entry_ids(district)
    assert any(mapo in i for i in ids) and not any(gangnam in i for i in ids)
    assert "마포구" in district.findtext(f"{ATOM}title")
    resolved = [e for e in district.findall(f"{ATOM}entry") if e.findtext(f"{ATOM}id").endswith(f"{mapo}#resolved")]
    assert "Patched on Tuesday." in resolved[0].findtext(f"{ATOM}summary")

    office = sql(
        demo_db, "SELECT o.slug FROM reports r JOIN offices o ON o.id = r.office_id WHERE public_id = :p", p=gangnam
    )
    by_office = valid_atom(client.get("/feeds/reports.atom", params={"office": office[0][0]}).content)
    assert any(gangnam in i for i in entry_ids(by_office)) and not any(mapo in i for i in entry_ids(by_office))

    near = valid_atom(
        client.get("/feeds/reports.atom", params={"lat": 37.5172, "lon": 127.0473, "radius": 50, "kind": "new"}).content
    )
    assert [i for i in entry_ids(near) if gangnam in i] == [f"http://127.0.0.1:8000/reports/{gangnam}#new"]
    assert not any(mapo in i for i in entry_ids(near))
    point = near.find(f"{ATOM}entry/{{http://www.georss.org/georss}}point")
    assert point is not None and len(point.text.split()) == 2

    only_resolved = valid_atom(client.get("/feeds/reports.atom", params={"kind": "resolved"}).content)
    assert all(i.endswith("#resolved") for i in entry_ids(only_resolved))

    by_layer = valid_atom(client.get("/feeds/reports.atom", params={"layer": "facilities"}).content)
    assert entry_ids(by_layer)
    empty = valid_atom(client.get("/feeds/reports.atom", params={"layer": "flood", "kind": "resolved"}).content)
    assert empty.findtext(f"{ATOM}updated")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"layer": "nope"}, 422, "unknown_layer"),
        ({"category": "nope"}, 422, "unknown_category"),
        ({"district": "99999"}, 404, "unknown_jurisdiction"),
        ({"office": "nope"}, 404, "unknown_office"),
        ({"lat": 37.5, "lon": 127.0}, 422, "invalid_input"),
        ({"lat": 37.5, "lon": 127.0, "radius": 90000}, 422, "invalid_input"),
        ({"lat": 137.5, "lon": 127.0, "radius": 100}, 422, "invalid_input"),
        ({"kind": "old"}, 422, "invalid_request"),
    ],
)
def test_bad_feed_parameters_are_refused(client, params, status, code):
    response = client.get("/feeds/reports.atom", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


@pytest.fixture
def flood_on(demo_db):
    until = datetime.now(UTC) + timedelta(hours=6)
    with transaction() as session:
        layers.activate_layer(
            session,
            actor=ADMIN,
            slug="flood",
            banner_ko="호우 경보: 저지대 침수에 주의하세요 & 119",
            banner_en="Heavy rain warning: low-lying roads may flood & call 119",
            until=until,
        )
    yield until
    with transaction() as session:
        layers.deactivate_layer(session, actor=ADMIN, slug="flood")


def test_cap_alert_of_an_active_disaster_layer_validates_against_the_oasis_schema(client, flood_on):
    response = client.get("/feeds/cap/flood.xml")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    schema = etree.XMLSchema(etree.parse(str(CAP_XSD)))
    document = etree.fromstring(response.content)
    schema.assertValid(document)

    infos = document.findall(f"{CAP}info")
    assert [i.findtext(f"{CAP}language") for i in infos] == ["ko-KR", "en-US"]
    assert infos[0].findtext(f"{CAP}description") == "호우 경보: 저지대 침수에 주의하세요 & 119"
    assert infos[1].findtext(f"{CAP}description").startswith("Heavy rain warning")
    assert infos[1].findtext(f"{CAP}event") == "Flood"
    expires = datetime.fromisoformat(infos[0].findtext(f"{CAP}expires"))
    assert abs((expires - flood_on).total_seconds()) < 1
    areas = infos[0].findall(f"{CAP}area")
    assert len(areas) == 25 and "마포구" in [a.findtext(f"{CAP}areaDesc") for a in areas]
    for area in areas:
        polygons = area.findall(f"{CAP}polygon")
        assert polygons
        for polygon in polygons:
            pairs = polygon.text.split()
            assert len(pairs) >= 4 and pairs[0] == pairs[-1]
            lat, lon = (float(v) for v in pairs[0].split(","))
            assert 37.4 < lat < 37.8 and 126.7 < lon < 127.3  # latitude first, as CAP wants
    # The same activation is the same message, fetched twice.
    assert client.get("/feeds/cap/flood.xml").content == response.content

    index = valid_atom(client.get("/feeds/cap.atom").content)
    links = index.findall(f"{ATOM}entry/{ATOM}link[@type='application/cap+xml']")
    assert [link.get("href") for link in links] == ["http://127.0.0.1:8000/feeds/cap/flood.xml"]

    page = client.get("/", params={"lang": "en"}).text
    head = page.split("</head>")[0]
    assert (
        '<link rel="alternate" type="application/cap+xml" title="Flood (CAP 1.2)" href="/feeds/cap/flood.xml">' in head
    )
    assert 'type="application/atom+xml"' in head and "/feeds/reports.atom?layer=flood&amp;lang=en" in head


def test_the_schema_check_can_fail_and_inactive_layers_have_no_alert(client, flood_on):
    schema = etree.XMLSchema(etree.parse(str(CAP_XSD)))
    document = etree.fromstring(client.get("/feeds/cap/flood.xml").content)
    document.find(f"{CAP}status").text = "Maybe"
    assert not schema.validate(document)
    for slug in ("slope", "facilities", "nope"):
        response = client.get(f"/feeds/cap/{slug}.xml")
        assert response.status_code == 404 and response.json()["error"]["code"] == "no_active_alert"


def test_without_an_active_disaster_layer_the_map_advertises_only_the_city_feed(client):
    head = client.get("/", params={"lang": "ko"}).text.split("</head>")[0]
    assert 'href="/feeds/reports.atom?lang=ko"' in head
    assert "application/cap+xml" not in head
    index = valid_atom(client.get("/feeds/cap.atom").content)
    assert entry_ids(index) == []
