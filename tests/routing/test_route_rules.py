"""Routing on synthetic boundaries: exact shared borders, gaps of known width, missing offices, batch = single."""

import pytest
from sqlalchemy import text

from mapapp import jurisdictions, routing
from mapapp.layers import service as layers
from mapapp.offices import service as offices
from tests.conftest import PROJECT
from tests.factories import district, square, write_geojson

# --- synthetic boundaries: exact borders and gaps of known width -----------------------------------


@pytest.fixture
def two_districts(session, tmp_path):
    """Districts A (west) and B (east) sharing the border lon=127.01, and C east of a 0.002° (~176 m) gap."""
    jurisdictions.create_jurisdiction(session, code="99", name_ko="시험시", name_en="Test City", level="city")
    path = write_geojson(
        tmp_path / "d.geojson",
        [
            district("99020", "나구", square(127.01, 37.50, 0.01)),
            district("99010", "가구", square(127.00, 37.50, 0.01)),
            district("99030", "다구", square(127.022, 37.50, 0.01)),
        ],
    )
    jurisdictions.import_boundaries(
        session, path=path, level="district", code_field="code", name_field="name", name_en_field="name_en"
    )
    # A city polygon of its own that also covers the gap, so gap points are inside the city.
    session.execute(
        text(
            "UPDATE jurisdictions SET geom = ST_Multi(ST_MakeEnvelope(126.99, 37.49, 127.04, 37.52, 4326)), "
            "geometry_source = 'imported' WHERE code = '99'"
        )
    )
    jurisdictions.rebuild_parts(session, "city")
    layers.sync_layers(session, layers.load_layer_files(PROJECT / "layers"))
    for code in ("99010", "99020", "99030"):
        offices.create_office(session, jurisdiction_code=code, department="roads", name_ko=f"{code} 도로", name_en="r")
    return session


def test_a_point_on_a_shared_border_routes_to_the_lowest_code_every_time(two_districts):
    for _ in range(3):
        decision = routing.route(two_districts, lon=127.01, lat=37.505, category="streetlight-out")
        assert decision.jurisdiction("district").code == "99010"
        assert decision.method == "contains"


def test_a_point_in_a_narrow_gap_goes_to_the_nearest_district(two_districts):
    # 0.0003° east of B's edge at latitude 37.5 is about 26 m.
    decision = routing.route(two_districts, lon=127.0203, lat=37.505, category="streetlight-out")
    assert decision.jurisdiction("district").code == "99020"
    assert decision.method == "nearest_district" and 20 < decision.reason_params["distance_m"] < 32


def test_a_point_in_a_wide_gap_goes_to_triage_with_the_reason(two_districts):
    decision = routing.route(two_districts, lon=127.021, lat=37.505, category="streetlight-out")  # ~88 m from both
    assert decision.triage and decision.reason_code == "triage_outside_districts"
    assert decision.jurisdiction("city").code == "99"
    assert "no district is within 50 m" in decision.reason("en")


def test_the_gap_tolerance_is_configurable(two_districts):
    decision = routing.route(two_districts, lon=127.021, lat=37.505, category="streetlight-out", tolerance_m=100)
    assert decision.jurisdiction("district") is not None and decision.method == "nearest_district"


def test_a_category_whose_office_is_missing_goes_to_triage_with_the_reason(two_districts):
    decision = routing.route(two_districts, lon=127.005, lat=37.505, category="illegal-dumping")
    assert decision.triage and decision.reason_code == "triage_no_office"
    assert decision.jurisdiction("district").code == "99010"
    assert "has no office that handles 'Illegal dumping'" in decision.reason("en")
    assert "sanitation" not in decision.reason("en")  # the department's slug is a code, never shown


def test_batch_reroute_agrees_with_single_route_and_moves_reports_when_boundaries_change(two_districts, tmp_path):
    s = two_districts
    points = [
        (127.005, 37.505),
        (127.015, 37.505),
        (127.01, 37.505),
        (127.0203, 37.505),
        (127.021, 37.505),
        (127.025, 37.505),
    ]
    category_id = s.execute(text("SELECT id FROM categories WHERE slug = 'streetlight-out'")).scalar_one()
    layer_id = s.execute(text("SELECT layer_id FROM categories WHERE id = :c"), {"c": category_id}).scalar_one()
    for i, (lon, lat) in enumerate(points):
        s.execute(
            text(
                "INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale, "
                "location_source, routing_rule, routing_manual, support_count) VALUES (:pid, :l, :c, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), '', 'submitted', 'api', 'ko', 'pin', '', false, 0)"
            ),
            {"pid": f"T{i}", "l": layer_id, "c": category_id, "lon": lon, "lat": lat},
        )
    summary = routing.reroute_reports(s)
    assert summary.checked == 6 and summary.moved == 6 and summary.triage == 1

    def stored():
        return s.execute(
            text(
                "SELECT r.public_id, o.slug, r.status, d.reason_code "
                "FROM reports r LEFT JOIN offices o ON o.id = r.office_id "
                "JOIN LATERAL (SELECT reason_code FROM routing_decisions WHERE report_id = r.id "
                "ORDER BY id DESC LIMIT 1) d ON true ORDER BY r.public_id"
            )
        ).all()

    for (pid, office, status, reason), (lon, lat) in zip(stored(), points, strict=True):
        single = routing.route(s, lon=lon, lat=lat, category="streetlight-out")
        assert office == (single.office.slug if single.office else None), pid
        assert reason == single.reason_code and status == ("triage" if single.triage else "routed")

    # Running it again changes nothing.
    again = routing.reroute_reports(s)
    assert (again.moved, again.relocated) == (0, 0)

    # District A grows east over B's west half: open reports there move, with a decision and an event.
    moved = write_geojson(
        tmp_path / "m.geojson",
        [
            district("99010", "가구", square(127.00, 37.50, 0.0151)),
            district(
                "99020",
                "나구",
                [[[127.0151, 37.5], [127.02, 37.5], [127.02, 37.51], [127.0151, 37.51], [127.0151, 37.5]]],
            ),
            district("99030", "다구", square(127.022, 37.50, 0.01)),
        ],
    )
    jurisdictions.import_boundaries(
        s, path=moved, level="district", code_field="code", name_field="name", name_en_field="name_en"
    )
    after = routing.reroute_reports(s)
    assert (after.moved, after.relocated) == (1, 1)
    assert dict((r[0], r[1]) for r in stored())["T1"] == "99010-roads"
    events = s.execute(
        text(
            "SELECT count(*) FROM report_events e JOIN reports r ON r.id = e.report_id "
            "WHERE r.public_id = 'T1' AND e.kind = 'routed'"
        )
    ).scalar_one()
    assert events == 2


def test_reports_of_a_retired_district_are_routed_again(two_districts, tmp_path):
    s = two_districts
    category_id, layer_id = s.execute(text("SELECT id, layer_id FROM categories WHERE slug = 'streetlight-out'")).one()
    s.execute(
        text(
            "INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale, "
            "location_source, routing_rule, routing_manual, support_count) VALUES ('C1', :l, :c, "
            "ST_SetSRID(ST_MakePoint(127.025, 37.505), 4326), '', 'submitted', 'api', 'ko', 'pin', '', false, 0)"
        ),
        {"l": layer_id, "c": category_id},
    )
    assert routing.reroute_reports(s).moved == 1
    assert s.execute(text("SELECT status FROM reports WHERE public_id = 'C1'")).scalar_one() == "routed"
    # The file no longer has district C: it is retired and its report, now in no district, goes to triage.
    without_c = write_geojson(
        tmp_path / "ab.geojson",
        [
            district("99010", "가구", square(127.00, 37.50, 0.01)),
            district("99020", "나구", square(127.01, 37.50, 0.01)),
        ],
    )
    summary = jurisdictions.import_boundaries(
        s, path=without_c, level="district", code_field="code", name_field="name", name_en_field="name_en"
    )
    assert summary.retired == ["99030"]
    again = routing.reroute_reports(s)
    assert (again.candidates, again.moved, again.triage) == (1, 1, 1)
    assert s.execute(text("SELECT status, district_id FROM reports WHERE public_id = 'C1'")).one() == ("triage", None)
    assert s.execute(text("SELECT count(*) FROM jurisdictions WHERE routed_geom IS NOT NULL")).scalar_one() == 0
