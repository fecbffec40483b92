"""Demo data: Seoul's real districts and dong, loaded only into an empty database, with reports whose
timelines run forward."""

import csv
import itertools
import time
from pathlib import Path

import shapely
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mapapp import routing
from mapapp.cli import app
from mapapp.demo import service as demo
from mapapp.demo.build import build
from mapapp.demo.offices import CITY_DIVISIONS, DISTRICT_DEPARTMENTS
from mapapp.layers import service as layers
from tests.conftest import PROJECT, shared_data

runner = CliRunner()


def load(session, reports=60, seed=7):  # type: ignore[no-untyped-def]
    return demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=reports, seed=seed)


def test_the_shipped_boundaries_are_small_and_the_dong_tile_their_districts_exactly():
    districts, dong = demo.read_areas("districts"), demo.read_areas("dong")
    assert len(districts) == 25 and len(dong) == 425
    assert all((demo.DATA / f"{name}.geojson").stat().st_size < 400_000 for name in ("districts", "dong"))
    assert shapely.coverage_is_valid([a.geom for a in districts]) and shapely.coverage_is_valid([a.geom for a in dong])
    assert all(a.geom.is_valid and len(a.geom.geoms) == 1 for a in dong)
    for district in districts:
        members = [a.geom for a in dong if a.parent == district.code]
        assert members, district.code
        union = shapely.coverage_union_all(members)
        assert union.symmetric_difference(district.geom).area < 1e-12, district.code
    assert {a.name_en for a in districts} >= {"Mapo-gu", "Gangnam-gu", "Jung-gu"}
    assert all(a.name_ko.endswith("동") and a.name_en.endswith("-dong") for a in dong)


def test_the_shipped_files_are_what_the_build_makes_of_the_originals(tmp_path):
    source = shared_data("boundaries", "seoul_gu_2015.geojson").parent
    build(source, tmp_path)
    for name in ("districts", "dong"):
        assert (tmp_path / f"{name}.geojson").read_bytes() == (demo.DATA / f"{name}.geojson").read_bytes(), name


def test_the_demo_districts_route_every_ground_truth_point_and_the_dong_contain_them(session):
    path = shared_data("boundaries", "seoul_dong_inner_points_expected_gu.csv")
    load(session, reports=0)
    points = list(csv.DictReader(path.open(encoding="utf-8")))
    dong_names = {(a.parent, a.name_ko) for a in demo.read_areas("dong")}
    parent = {a.code: a.parent for a in demo.read_areas("dong")}
    right_district = in_right_dong = named_alike = 0
    for p in points:
        decision = routing.route(
            session, lon=float(p["lon_wgs84"]), lat=float(p["lat_wgs84"]), category="streetlight-out"
        )
        district, dong = decision.jurisdiction("district"), decision.jurisdiction("dong")
        right_district += district is not None and district.code == p["expected_mois_sig_cd"]
        in_right_dong += dong is not None and parent[dong.code] == p["expected_mois_sig_cd"]
        name = p["adm_nm"].split()[-1]
        if (p["expected_mois_sig_cd"], name) in dong_names:
            named_alike += dong is not None and dong.name_ko == name
    assert len(points) == 449 and right_district == 449 and in_right_dong == 449
    # 424 of the points name a dong that still exists in 2021 (the others were merged or renamed).
    assert named_alike == 424


def test_dong_have_english_names_as_road_signs_spell_them():
    from mapapp.demo.romanize import dong_name_en

    assert dong_name_en("신림동") == "Sillim-dong"
    assert dong_name_en("사당2동") == "Sadang 2-dong"
    assert dong_name_en("종로1·2·3·4가동") == "Jongno 1·2·3·4-ga-dong"
    assert dong_name_en("성수1가1동") == "Seongsu 1-ga 1-dong"
    assert dong_name_en("청량리동") == "Cheongnyangni-dong"
    assert dong_name_en("독립문동") == "Dongnimmun-dong"
    names = {a.name_ko: a.name_en for a in demo.read_areas("dong")}
    assert names["합정동"] == "Hapjeong-dong" and names["왕십리도선동"] == "Wangsimnidoseon-dong"


def test_the_romanization_agrees_with_the_official_english_names_of_the_legal_dong():
    import json

    from mapapp.demo.romanize import dong_name_en

    path = shared_data("boundaries", "seoul_legal_dong_2015_simple.geojson")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    pairs = [(f["properties"]["EMD_KOR_NM"], f["properties"]["EMD_ENG_NM"]) for f in features]
    pairs = [(ko, en) for ko, en in pairs if ko.endswith("동")]
    wrong = [(ko, en, dong_name_en(ko)) for ko, en in pairs if dong_name_en(ko) != en]
    # The three that differ are the source's own slips: "Yeji -dong", "Dapsipni-dong", "Sangdo 1(il)-dong".
    assert len(pairs) == 329 and len(wrong) <= 3, wrong


def test_offices_are_named_after_their_district_and_division(session):
    summary = load(session, reports=0)
    assert (summary.districts, summary.dong, summary.offices) == (25, 425, 79)
    rows = session.execute(
        text(
            "SELECT o.slug, o.department, o.name_ko, o.name_en, j.name_ko, j.name_en, j.level "
            "FROM offices o JOIN jurisdictions j ON j.id = o.jurisdiction_id"
        )
    ).all()
    for slug, dept, name_ko, name_en, place_ko, place_en, level in rows:
        assert name_ko.startswith(place_ko + " ") and name_ko.endswith("과"), slug
        assert name_en.startswith(place_en + " ") and name_en.endswith("Division"), slug
        assert dept in (CITY_DIVISIONS if level == "city" else DISTRICT_DEPARTMENTS), slug
    names = {slug: (ko, en) for slug, _, ko, en, *_ in rows}
    assert names["11440-roads"] == ("마포구 건설관리과", "Mapo-gu Road Management Division")
    assert "11140-sanitation" not in names  # the demo's triage example


def test_every_demo_timeline_runs_forward_and_ends_before_the_load(session):
    summary = load(session, reports=400, seed=3)
    loaded = session.scalar(text("SELECT clock_timestamp()"))
    reports = session.execute(
        text(
            "SELECT r.id, r.status, r.created_at, r.updated_at, r.routed_at, r.resolved_at, r.close_reason, "
            "(SELECT array_agg(e.created_at ORDER BY e.id) FROM report_events e WHERE e.report_id = r.id), "
            "(SELECT array_agg(coalesce(e.from_status, '') || '>' || e.to_status ORDER BY e.id) "
            " FROM report_events e WHERE e.report_id = r.id), "
            "(SELECT array_agg(d.decided_at) FROM routing_decisions d WHERE d.report_id = r.id) "
            "FROM reports r"
        )
    ).all()
    assert len(reports) == summary.reports == 400
    for rid, status, created, updated, routed_at, resolved_at, reason, times, moves, decided in reports:
        assert times[0] == created < routed_at == times[1] and decided == [routed_at], rid
        assert all(a < b for a, b in itertools.pairwise(times)), (rid, moves, times)
        assert times[-1] == updated < loaded, rid
        # Each step starts where the one before ended, and the last is where the report stands.
        steps = [m.split(">") for m in moves]
        assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(steps)), (rid, moves)
        assert steps[-1][1] == status, (rid, moves)
        if status in ("resolved", "reopened"):
            assert resolved_at == times[moves.index("in_progress>resolved")], rid
        assert (reason is not None) == (status == "closed"), rid
    statuses = {status for _, status, *_ in reports}
    assert statuses == {"routed", "triage", "acknowledged", "assigned", "in_progress", "resolved", "closed", "reopened"}
    missing = session.scalar(
        text("SELECT count(*) FROM categories c WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.category_id = c.id)")
    )
    assert missing == 0


def test_reports_fall_in_many_dong_and_more_where_dong_are_small(session):
    load(session, reports=400, seed=5)
    in_dong, distinct, small_share, small_land = session.execute(
        text(
            """
            WITH placed AS (
                SELECT r.id, p.jurisdiction_id AS dong
                FROM reports r JOIN jurisdiction_parts p ON p.level = 'dong' AND ST_Intersects(p.geom, r.geom)
            ), sized AS (
                SELECT id, ST_Area(geom::geography) AS area,
                       ntile(2) OVER (ORDER BY ST_Area(geom::geography)) = 1 AS small
                FROM jurisdictions WHERE level = 'dong'
            )
            SELECT count(DISTINCT placed.id), count(DISTINCT dong),
                   avg(CASE WHEN sized.small THEN 1.0 ELSE 0.0 END),
                   (SELECT sum(area) FILTER (WHERE small) / sum(area) FROM sized)
            FROM placed JOIN sized ON sized.id = placed.dong
            """
        )
    ).one()
    assert in_dong == 400 and distinct > 250
    # The smaller half of the dong covers a small part of the city's land but gets about half the reports.
    assert small_land < 0.25 and 0.4 < small_share < 0.6, (small_land, small_share)


def test_demo_load_fills_an_empty_database_quickly_and_is_a_no_op_the_second_time(fresh_db):
    started = time.monotonic()
    first = runner.invoke(app, ["demo", "load", "--if-empty"])
    took = time.monotonic() - started
    assert first.exit_code == 0, first.output
    assert "25 districts" in first.output and "425 dong" in first.output and "400 reports" in first.output
    assert took < 10, f"loading the demo took {took:.1f} s"
    with create_engine(fresh_db).connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM reports GROUP BY status")).all())
        layers_with_reports = conn.execute(text("SELECT count(DISTINCT layer_id) FROM reports")).scalar_one()
        unrouted = conn.execute(text("SELECT count(*) FROM reports WHERE district_id IS NULL")).scalar_one()
        decisions = conn.execute(text("SELECT count(DISTINCT report_id) FROM routing_decisions")).scalar_one()
        levels = dict(conn.execute(text("SELECT level, count(*) FROM jurisdictions GROUP BY level")).all())
        places = set(conn.execute(text("SELECT name FROM gazetteer_places")).scalars())
        # /stats has figures from the first run, not after its first refresh minutes later.
        counted = conn.execute(text("SELECT count(*) FROM stats_daily")).scalar_one()
    assert sum(statuses.values()) == 400
    assert {"routed", "acknowledged", "in_progress", "resolved", "closed", "triage"} <= set(statuses)
    assert layers_with_reports == 3 and unrouted == 0 and decisions == 400
    assert levels == {"city": 1, "district": 25, "dong": 425}
    assert counted > 0 and "public figures (/stats) computed" in first.output
    # The demo gazetteer comes with it, so messages that name a landmark are located in `make run`.
    shipped = {row["name"] for row in csv.DictReader((PROJECT / "mapapp/intake/data/seoul_gazetteer.csv").open())}
    assert len(shipped) > 30 and places == shipped and f"{len(shipped)} gazetteer places" in first.output

    second = runner.invoke(app, ["demo", "load", "--if-empty"])
    assert second.exit_code == 0 and "already has data" in second.output
    without_flag = runner.invoke(app, ["demo", "load"])
    assert without_flag.exit_code == 2 and "already loaded" in without_flag.output


def test_demo_load_refuses_a_database_with_real_data(fresh_db, tmp_path):
    with create_engine(fresh_db).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO jurisdictions (code, name_ko, name_en, level, geometry_source, source) "
                "VALUES ('11', '서울특별시', 'Seoul', 'city', 'derived', 'cli')"
            )
        )
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 2 and "not demo data" in result.output
    with create_engine(fresh_db).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jurisdictions")).scalar_one() == 1


def test_the_boundary_files_go_into_the_wheel():
    import tomllib

    config = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["mapapp.demo"]
    assert any(Path("data/dong.geojson").match(p) for p in patterns)
