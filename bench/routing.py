"""Routing benchmark: our route() and batch re-route against bare SQL on the same data, same driver.

    .venv/bin/python -m bench.routing [--points 1000000] [--lookups 3000]

Needs ../shared/data (the real Seoul districts). Makes and drops its own database on the server of
MAPAPP_DATABASE_URL.
"""

import argparse
import csv
import random
import time

from sqlalchemy import text

from bench.common import SHARED_DATA, bench_database, summary
from mapapp import jurisdictions, routing
from mapapp.core.db import get_engine, transaction
from mapapp.layers import service as layers
from mapapp.offices import service as offices

BARE_PARTS = (
    "SELECT jurisdiction_id FROM jurisdiction_parts WHERE level = 'district' "
    "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
)
BARE_RAW = (
    "SELECT id FROM jurisdictions WHERE level = 'district' "
    "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
)
BARE_FIRST_UPDATE = """
    UPDATE reports r SET district_id = x.jid
    FROM (SELECT DISTINCT ON (r.id) r.id, p.jurisdiction_id AS jid
          FROM jurisdiction_parts p JOIN reports r ON ST_Intersects(p.geom, r.geom)
          WHERE p.level = 'district' ORDER BY r.id, p.code) x
    WHERE r.id = x.id
"""
BARE_JOIN = (
    "SELECT count(*) FROM reports r JOIN jurisdiction_parts p ON p.level = 'district' AND ST_Intersects(p.geom, r.geom)"
)


def load_seoul() -> None:
    with transaction() as session:
        layers.sync_layers(session, layers.load_layer_files(layers_dir()))
        jurisdictions.create_jurisdiction(session, code="11", name_ko="서울특별시", name_en="Seoul", level="city")
        jurisdictions.import_boundaries(
            session,
            path=SHARED_DATA / "boundaries" / "seoul_gu_2015.geojson",
            level="district",
            code_field="SIG_CD",
            name_field="SIG_KOR_NM",
            name_en_field="SIG_ENG_NM",
        )
        for dept in ("traffic", "water", "transit", "safety"):
            offices.create_office(session, jurisdiction_code="11", department=dept, name_ko=dept, name_en=dept)
        for (code,) in session.execute(text("SELECT code FROM jurisdictions WHERE level = 'district'")).all():
            for dept in ("roads", "sanitation", "safety"):
                offices.create_office(session, jurisdiction_code=code, department=dept, name_ko=dept, name_en=dept)


def layers_dir():  # type: ignore[no-untyped-def]
    from mapapp.core.settings import get_settings

    return get_settings().layers_dir


def ground_truth_points() -> list[tuple[float, float]]:
    with (SHARED_DATA / "boundaries" / "seoul_dong_inner_points_expected_gu.csv").open(encoding="utf-8") as f:
        return [(float(r["lon_wgs84"]), float(r["lat_wgs84"])) for r in csv.DictReader(f)]


def bench_single(lookups: int) -> dict[str, tuple[float, float]]:
    """Per-lookup latency (ms, median and p95) of route() and of the bare SQL, interleaved."""
    points = ground_truth_points()
    rng = random.Random(1)
    sample = [rng.choice(points) for _ in range(lookups)]
    engine = get_engine()
    results: dict[str, list[float]] = {"route()": [], "bare SQL, subdivided": [], "bare SQL, raw polygons": []}
    with transaction() as session:
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        for lon, lat in sample[:200]:  # warm caches and plans
            routing.route(session, lon=lon, lat=lat, category="streetlight-out")
            cursor.execute(BARE_PARTS, (lon, lat))
            cursor.fetchall()
        for lon, lat in sample:
            t0 = time.perf_counter()
            routing.route(session, lon=lon, lat=lat, category="streetlight-out")
            t1 = time.perf_counter()
            cursor.execute(BARE_PARTS, (lon, lat))
            cursor.fetchall()
            t2 = time.perf_counter()
            cursor.execute(BARE_RAW, (lon, lat))
            cursor.fetchall()
            t3 = time.perf_counter()
            results["route()"].append((t1 - t0) * 1000)
            results["bare SQL, subdivided"].append((t2 - t1) * 1000)
            results["bare SQL, raw polygons"].append((t3 - t2) * 1000)
    engine.dispose()
    return {name: summary(samples) for name, samples in results.items()}


def insert_reports(count: int) -> None:
    """`count` reports at random points inside the city (the union of the districts), every category."""
    with transaction() as session:
        session.execute(text("SET LOCAL jit = off"))
        session.execute(
            text(
                """
                INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale,
                                     location_source, routing_rule, routing_manual, support_count)
                SELECT 'B' || row_number() OVER (), c.layer_id, c.id, s.pt, '', 'submitted', 'api', 'ko', 'pin',
                       '', false, 0
                FROM (SELECT g, ST_SetSRID(ST_MakePoint(126.76 + random() * 0.43, 37.42 + random() * 0.3), 4326) AS pt
                      FROM generate_series(1, :n * 5 / 2) g) s
                JOIN LATERAL (SELECT id, layer_id FROM categories ORDER BY id OFFSET (s.g % 13) LIMIT 1) c ON true
                WHERE EXISTS (SELECT 1 FROM jurisdiction_parts p WHERE p.level = 'city' AND ST_Intersects(p.geom, s.pt))
                LIMIT :n
                """
            ),
            {"n": count},
        )
    vacuum()


def vacuum() -> None:
    """Vacuum what the last run wrote, so that autovacuum does not run during the next measurement."""
    with get_engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("reports", "routing_decisions", "report_events", "jurisdictions", "jurisdiction_parts"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def move_a_border() -> None:
    """Mapo-gu (11440) takes a 300 m strip of Seodaemun-gu (11410): boundaries change as they do in life."""
    with transaction() as session:
        session.execute(
            text(
                """
                WITH strip AS (
                    SELECT ST_Intersection(s.geom, ST_Buffer(m.geom::geography, 300)::geometry) AS g
                    FROM jurisdictions s, jurisdictions m WHERE s.code = '11410' AND m.code = '11440'
                )
                UPDATE jurisdictions j SET updated_at = now(), routed_geom = coalesce(j.routed_geom, j.geom),
                    geom = ST_Multi(ST_CollectionExtract(
                    CASE j.code WHEN '11440' THEN ST_Union(j.geom, strip.g) ELSE ST_Difference(j.geom, strip.g) END, 3))
                FROM strip WHERE j.code IN ('11440', '11410')
                """
            )
        )
        jurisdictions.rebuild_parts(session, "district")


def timed_reroute() -> tuple[float, routing.RerouteSummary]:
    t0 = time.perf_counter()
    with transaction() as session:
        result = routing.reroute_reports(session)
    return time.perf_counter() - t0, result


def bench_batch(points: int) -> list[tuple[str, float, str]]:
    """Seconds for the bare set-based join, the bare first-time UPDATE, and our re-route in three situations."""
    insert_reports(points)
    rows: list[tuple[str, float, str]] = []
    with get_engine().connect() as conn:
        conn.execute(text(BARE_JOIN)).scalar_one()  # warm the cache
        t0 = time.perf_counter()
        matched = conn.execute(text(BARE_JOIN)).scalar_one()
        rows.append(("bare join (count), server defaults", time.perf_counter() - t0, f"{matched:,} pairs"))
    with get_engine().connect() as conn:
        t0 = time.perf_counter()
        conn.execute(text(BARE_FIRST_UPDATE))
        rows.append(("bare UPDATE setting every district", time.perf_counter() - t0, "baseline for first time"))
        conn.rollback()
    vacuum()
    secs, first = timed_reroute()
    rows.append(("reroute, first time (every report decided)", secs, f"{first.moved:,} moved"))
    vacuum()
    secs, steady = timed_reroute()
    rows.append(("reroute, nothing changed", secs, f"{steady.candidates:,} candidates, {steady.moved} moved"))
    move_a_border()
    vacuum()
    secs, moved = timed_reroute()
    rows.append(
        (
            "reroute, after a border moved",
            secs,
            f"{moved.candidates:,} candidates, {moved.relocated:,} changed district",
        )
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000, help="reports for the batch benchmark")
    parser.add_argument("--lookups", type=int, default=3000, help="single lookups")
    args = parser.parse_args()
    if not (SHARED_DATA / "boundaries").exists():
        raise SystemExit(f"needs the shared data at {SHARED_DATA}")
    with bench_database("mapapp_bench_routing"):
        load_seoul()
        single = bench_single(args.lookups)
        base = single["bare SQL, subdivided"][0]
        print(f"single lookup, {args.lookups} points from the 449 ground-truth points (ms):")
        for name, (median, p95) in single.items():
            print(f"  {name:26} median {median:6.3f}  p95 {p95:6.3f}  ({median / base:4.2f}x bare subdivided)")
        print(f"  route() throughput on one connection: {1000 / single['route()'][0]:,.0f} lookups/s")
        batch = bench_batch(args.points)
        bare = batch[0][1]
        print(f"batch, {args.points:,} stored reports inside the city:")
        for name, secs, note in batch:
            print(
                f"  {name:44} {secs:7.2f} s  {args.points / secs:12,.0f} reports/s  "
                f"({bare / secs:4.2f}x bare join speed)  {note}"
            )


if __name__ == "__main__":
    main()
