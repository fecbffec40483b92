"""Single routing (`route`) and batch routing (`reroute_reports`) decide the same, field by field.

The same points are routed both ways on the real Seoul districts: the 449 ground-truth dong points,
points in a gap just outside the districts, points in the city but far from any district, points
outside the city, and a district whose roads office is closed. Office, city, district, method, rule
text, reason code, reason parameters and the reason in both languages must be equal.
"""

import csv
import json

import pytest
from sqlalchemy import text

from mapapp import jurisdictions, routing
from tests.conftest import shared_data

# District level and city level, every department the Seoul fixture has an office for.
CATEGORIES = ("streetlight-out", "traffic-signal-fault", "illegal-dumping", "manhole-cover", "fallen-rocks")


def ground_truth() -> list[tuple[float, float]]:
    with shared_data("boundaries", "seoul_dong_inner_points_expected_gu.csv").open(encoding="utf-8") as f:
        return [(float(r["lon_wgs84"]), float(r["lat_wgs84"])) for r in csv.DictReader(f)]


def ring_points(session, metres: float, every: int) -> list[tuple[float, float]]:
    """Points on the ring `metres` outside the union of the districts (every n-th vertex)."""
    rows = session.execute(
        text(
            """
            SELECT ST_X(d.geom), ST_Y(d.geom) FROM (
                SELECT (ST_DumpPoints(ST_ExteriorRing(ST_GeometryN(
                    ST_Buffer(ST_Union(geom)::geography, :m)::geometry, 1)))).*
                FROM jurisdictions WHERE level = 'district' AND retired_at IS NULL) d
            WHERE d.path[1] % :every = 0
            """
        ),
        {"m": metres, "every": every},
    ).all()
    return [(float(x), float(y)) for x, y in rows]


def single(session, lon: float, lat: float, category: str) -> dict:
    """The decision route() makes, in the shape of a stored routing decision."""
    try:
        d = routing.route(session, lon=lon, lat=lat, category=category)
    except routing.OutsideServiceArea:
        return {"reason_code": "triage_outside_service_area"}
    district, city = d.jurisdiction("district"), d.jurisdiction("city")
    return {
        "office_id": d.office.id if d.office else None,
        "city_id": city.id if city else None,
        "district_id": district.id if district else None,
        "method": d.method,
        "rule": d.rule,
        "reason_code": d.reason_code,
        "reason_params": d.reason_params,
        "reason_ko": d.reason("ko"),
        "reason_en": d.reason("en"),
        "status": routing.status_after(not d.triage),
    }


def batch(session) -> dict[str, dict]:
    """Every report's latest decision as re-routing stored it."""
    rows = session.execute(
        text(
            """
            SELECT r.public_id, r.status, r.routing_rule, d.office_id, d.city_id, d.district_id, d.method, d.rule,
                   d.reason_code, d.reason_params
            FROM reports r JOIN LATERAL (SELECT * FROM routing_decisions WHERE report_id = r.id
                                         ORDER BY id DESC LIMIT 1) d ON true
            """
        )
    ).mappings()
    out = {}
    for row in rows:
        decision = dict(row)
        assert decision.pop("routing_rule") == decision["rule"], "the report's rule is its decision's rule"
        for loc in ("ko", "en"):
            decision[f"reason_{loc}"] = routing.render_reason(row["reason_code"], row["reason_params"], loc)
        out[decision.pop("public_id")] = decision
    return out


@pytest.fixture
def points(seoul):
    """(lon, lat, category) for every case; the city is widened 300 m past its districts for the far gap."""
    near_gap = ring_points(seoul, 20, 400)  # within the 50 m tolerance of a district
    seoul.execute(
        text(
            "UPDATE jurisdictions SET geom = ST_Multi(ST_Buffer(geom::geography, 300)::geometry), "
            "geometry_source = 'imported' WHERE level = 'city'"
        )
    )
    jurisdictions.rebuild_parts(seoul, "city")
    far_gap = ring_points(seoul, 150, 400)  # in the city, in no district, none within 50 m
    outside = [(127.6, 37.55), (126.5, 37.2)]  # outside the city altogether
    # Mapo-gu's roads office is closed: its district-level roads reports go to triage.
    seoul.execute(text("UPDATE offices SET active = false WHERE slug = '11440-roads'"))
    mapo = [(126.9016, 37.5663), (126.9137, 37.5495)]
    assert near_gap and far_gap
    located = ground_truth() + near_gap + far_gap + outside + mapo
    return [(lon, lat, CATEGORIES[i % len(CATEGORIES)]) for i, (lon, lat) in enumerate(located)]


def test_single_and_batch_routing_make_the_same_decisions(seoul, points):
    ids = dict(seoul.execute(text("SELECT slug, id FROM categories")).all())
    layers = dict(seoul.execute(text("SELECT slug, layer_id FROM categories")).all())
    for i, (lon, lat, category) in enumerate(points):
        seoul.execute(
            text(
                "INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale, "
                "location_source, routing_rule, routing_manual, support_count) VALUES (:pid, :l, :c, "
                "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), '', 'submitted', 'api', 'ko', 'pin', '', false, 0)"
            ),
            {"pid": f"P{i:04d}", "l": layers[category], "c": ids[category], "lon": lon, "lat": lat},
        )
    routing.reroute_reports(seoul)
    stored = batch(seoul)
    seen: set[str] = set()
    for i, (lon, lat, category) in enumerate(points):
        expected = single(seoul, lon, lat, category)
        got = stored[f"P{i:04d}"]
        seen.add(expected["reason_code"])
        if expected["reason_code"] == "triage_outside_service_area":
            # route() refuses the point outright; re-routing records why the report went to triage.
            assert got["reason_code"] == "triage_outside_service_area" and got["status"] == "triage"
            continue
        # JSON both ways: numbers as stored (jsonb), so 50 and 50.0 or 12.30 and 12.3 compare by value.
        got["reason_params"] = json.loads(json.dumps(got["reason_params"]))
        for field, value in expected.items():
            assert got[field] == value, f"point {i} ({lon}, {lat}, {category}): {field}"
    # Every kind of decision was compared, not only the easy one.
    assert seen == {
        "routed_by_category",
        "routed_nearest_district",
        "triage_no_office",
        "triage_outside_districts",
        "triage_outside_service_area",
    }
