"""Routing: real Seoul ground truth, borders, gaps, outside points, missing offices, batch = single."""

import csv
import math

import pytest
from sqlalchemy import text

from mapapp import routing
from mapapp.layers.service import UnknownCategory
from tests.conftest import shared_data


def test_all_449_dong_points_route_to_their_expected_district(seoul):
    path = shared_data("boundaries", "seoul_dong_inner_points_expected_gu.csv")
    with path.open(encoding="utf-8") as f:
        points = list(csv.DictReader(f))
    assert len(points) == 449
    wrong = []
    for p in points:
        decision = routing.route(
            seoul, lon=float(p["lon_wgs84"]), lat=float(p["lat_wgs84"]), category="streetlight-out"
        )
        got = decision.jurisdiction("district")
        if got is None or got.code != p["expected_mois_sig_cd"] or decision.office is None:
            wrong.append((p["adm_nm"], got and got.code))
        elif decision.office.slug != f"{p['expected_mois_sig_cd']}-roads":
            wrong.append((p["adm_nm"], decision.office.slug))
    assert wrong == [], f"{len(wrong)} of 449 misrouted: {wrong[:10]}"


def test_decision_records_the_polygon_rule_and_reason(seoul):
    decision = routing.route(seoul, lon=126.9708836, lat=37.5733899, category="streetlight-out")  # 사직동, 종로구
    assert decision.method == "contains" and decision.reason_code == "routed_by_category"
    assert [j.level for j in decision.jurisdictions] == ["city", "district"]
    assert decision.rule == "streetlight-out → district/roads"
    assert "Jongno-gu (11110)" in decision.reason("en") and "11110-roads" in decision.reason_params["office"]
    assert "종로구(11110)" in decision.reason("ko")


def test_city_level_category_goes_to_the_city_department(seoul):
    decision = routing.route(seoul, lon=126.9708836, lat=37.5733899, category="traffic-signal-fault")
    assert decision.office is not None and decision.office.slug == "11-traffic"
    assert decision.jurisdiction("district").code == "11110"


def test_real_gaps_between_seoul_districts_go_to_the_nearest_district(seoul):
    # The holes of the districts' union are the slivers between districts that the source data left.
    gaps = seoul.execute(
        text(
            """
            WITH u AS (SELECT ST_Union(geom) AS g FROM jurisdictions WHERE level = 'district'),
            holes AS (
                SELECT ST_MakePolygon(ST_InteriorRingN(d.geom, n)) AS hole
                FROM (SELECT (ST_Dump(g)).geom FROM u) d, generate_series(1, ST_NumInteriorRings(d.geom)) n
            ),
            points AS (SELECT ST_PointOnSurface(hole) AS p FROM holes)
            SELECT ST_X(p), ST_Y(p), nearest.code, nearest.distance
            FROM points, LATERAL (
                SELECT j.code, ST_Distance(j.geom::geography, p::geography) AS distance
                FROM jurisdictions j WHERE j.level = 'district' AND ST_DWithin(j.geom, p, 0.001)
                ORDER BY 2, 1 LIMIT 1) nearest
            """
        )
    ).all()
    assert len(gaps) > 300, "the real data has hundreds of gaps"
    in_gap = [g for g in gaps if g[3] > 0.01]  # clearly off every polygon, not on a border within rounding
    assert len(in_gap) >= 20
    for lon, lat, nearest_code, distance in in_gap:
        decision = routing.route(seoul, lon=lon, lat=lat, category="streetlight-out")
        assert decision.method == "nearest_district", (lon, lat, distance)
        assert decision.jurisdiction("district").code == nearest_code
        assert decision.reason_code == "routed_nearest_district" and decision.office is not None
        assert decision.reason_params["distance_m"] == pytest.approx(distance, abs=0.1)


def test_a_point_outside_the_city_is_rejected(seoul):
    with pytest.raises(routing.OutsideServiceArea) as err:
        routing.route(seoul, lon=129.0756, lat=35.1796, category="streetlight-out")  # Busan
    assert err.value.code == "outside_service_area" and err.value.status == 422


@pytest.mark.parametrize("lon, lat", [(math.nan, 37.5), (127.0, math.inf), (181.0, 37.5), (127.0, -90.5)])
def test_invalid_coordinates_are_rejected(seoul, lon, lat):
    with pytest.raises(routing.InvalidCoordinates):
        routing.route(seoul, lon=lon, lat=lat, category="streetlight-out")


def test_unknown_category_is_rejected(seoul):
    with pytest.raises(UnknownCategory):
        routing.route(seoul, lon=126.97, lat=37.57, category="unicorn-sighting")
