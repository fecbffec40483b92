"""Routing benchmark: our route() and batch re-route against bare SQL on the same data, same driver.

    .venv/bin/python -m bench.routing [--reports 1000000] [--lookups 3000] [--rounds 3]

The demo city (Seoul's 25 districts and 425 dong) with `--reports` generated reports
(`mapapp demo generate`). Both sides get the same advantages and run interleaved (A B A B):
- single lookups: route() (a statement prepared once per connection) against the bare district lookup
  PREPARED the same way on the same connection (and, for reference, the bare SQL re-planned per call);
- batch: the bare set-based join runs with the same parallel and JIT settings as the re-route and is
  timed between the re-routes, after each of them rewrote rows.
Needs ../shared/data (the ground-truth points). Makes and drops its own database on the server of
MAPAPP_DATABASE_URL (BENCH_DATABASE, BENCH_KEEP, BENCH_REUSE: see bench/common.py).
"""

import argparse
import csv
import random
import time
from collections.abc import Callable

from sqlalchemy import text

from bench.common import SHARED_DATA, bench_database, generated_city, load_average, summary
from mapapp import jurisdictions, routing
from mapapp.core.db import get_engine, transaction

BARE_PARTS = (
    "SELECT jurisdiction_id FROM jurisdiction_parts WHERE level = 'district' "
    "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
)
BARE_RAW = (
    "SELECT id FROM jurisdictions WHERE level = 'district' "
    "AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code LIMIT 1"
)
PREPARE_BARE = (
    "PREPARE bench_bare_parts (float8, float8) AS SELECT jurisdiction_id FROM jurisdiction_parts "
    "WHERE level = 'district' AND ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY code LIMIT 1"
)
EXECUTE_BARE = "EXECUTE bench_bare_parts (%s, %s)"
# What the re-route sets for its candidate search (mapapp/routing/service.py `_PARALLEL`): the bare join
# gets the same, so that neither side has both cores or JIT to itself.
PARALLEL = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "jit": "off",
    "work_mem": "128MB",
}
BARE_JOIN = (
    "SELECT count(*) FROM reports r JOIN jurisdiction_parts p ON p.level = 'district' AND ST_Intersects(p.geom, r.geom)"
)


def ground_truth_points() -> list[tuple[float, float]]:
    with (SHARED_DATA / "boundaries" / "seoul_dong_inner_points_expected_gu.csv").open(encoding="utf-8") as f:
        return [(float(r["lon_wgs84"]), float(r["lat_wgs84"])) for r in csv.DictReader(f)]


def bench_single(lookups: int) -> dict[str, tuple[float, float]]:
    """Per-lookup latency (ms, median and p95) of route() and of the bare SQL, interleaved.

    Two passes over the same points: route() against the bare lookup prepared the same way, A B A B
    (the ratio that counts); then the bare lookup, prepared, against the re-planned and raw-polygon
    variants, for reference. They are not mixed into the first pass: the raw-polygon query detoasts
    megabytes of geometry, which evicts route()'s in-memory parts from the CPU caches between its calls
    and not the bare lookup's (a harness effect of its own, reported by the third pass).
    """
    points = ground_truth_points()
    rng = random.Random(1)
    sample = [rng.choice(points) for _ in range(lookups)]
    engine = get_engine()
    results: dict[str, list[float]] = {
        "route()": [],
        "bare SQL, prepared": [],
        "bare SQL, prepared (pass 2)": [],
        "bare SQL, re-planned": [],
        "bare SQL, raw polygons": [],
        "route(), raw polygons between calls": [],
        "bare SQL, prepared, raw polygons between calls": [],
    }

    def timed(name: str, call: Callable[[], object]) -> None:
        t0 = time.perf_counter()
        call()
        results[name].append((time.perf_counter() - t0) * 1000)

    with transaction() as session:
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        cursor.execute(PREPARE_BARE)

        def route(lon: float, lat: float) -> object:
            return routing.route(session, lon=lon, lat=lat, category="streetlight-out")

        def run(sql: str, lon: float, lat: float) -> object:
            cursor.execute(sql, (lon, lat))
            return cursor.fetchall()

        for lon, lat in sample[:200]:  # warm caches and plans
            route(lon, lat)
            run(EXECUTE_BARE, lon, lat)
        for lon, lat in sample:
            timed("route()", lambda: route(lon, lat))  # noqa: B023 - called at once
            timed("bare SQL, prepared", lambda: run(EXECUTE_BARE, lon, lat))  # noqa: B023
        for lon, lat in sample:
            timed("bare SQL, prepared (pass 2)", lambda: run(EXECUTE_BARE, lon, lat))  # noqa: B023
            timed("bare SQL, re-planned", lambda: run(BARE_PARTS, lon, lat))  # noqa: B023
            timed("bare SQL, raw polygons", lambda: run(BARE_RAW, lon, lat))  # noqa: B023
        for lon, lat in sample:
            timed("route(), raw polygons between calls", lambda: route(lon, lat))  # noqa: B023
            run(BARE_RAW, lon, lat)
            timed("bare SQL, prepared, raw polygons between calls", lambda: run(EXECUTE_BARE, lon, lat))  # noqa: B023
            run(BARE_RAW, lon, lat)
    engine.dispose()
    return {name: summary(samples) for name, samples in results.items()}


def vacuum() -> None:
    """Vacuum what the last run wrote, so that autovacuum does not run during the next measurement."""
    with get_engine().connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in ("reports", "routing_decisions", "report_events", "jurisdictions", "jurisdiction_parts"):
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def move_a_border(taker: str, giver: str) -> None:
    """District `taker` takes a 300 m strip of `giver`: boundaries change as they do in life."""
    with transaction() as session:
        session.execute(
            text(
                """
                WITH strip AS (
                    SELECT ST_Intersection(s.geom, ST_Buffer(m.geom::geography, 300)::geometry) AS g
                    FROM jurisdictions s, jurisdictions m WHERE s.code = :giver AND m.code = :taker
                )
                UPDATE jurisdictions j SET updated_at = now(), routed_geom = coalesce(j.routed_geom, j.geom),
                    geom = ST_Multi(ST_CollectionExtract(
                    CASE j.code WHEN :taker THEN ST_Union(j.geom, strip.g) ELSE ST_Difference(j.geom, strip.g) END, 3))
                FROM strip WHERE j.code IN (:taker, :giver)
                """
            ),
            {"taker": taker, "giver": giver},
        )
        jurisdictions.rebuild_parts(session, "district")


def timed_bare_join() -> tuple[float, int]:
    """The bare join, with the re-route's settings for its own transaction."""
    with get_engine().connect() as conn:
        for name, value in PARALLEL.items():
            conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
        t0 = time.perf_counter()
        matched = conn.execute(text(BARE_JOIN)).scalar_one()
        secs = time.perf_counter() - t0
        conn.rollback()
    return secs, matched


def timed_reroute() -> tuple[float, routing.RerouteSummary]:
    t0 = time.perf_counter()
    with transaction() as session:
        result = routing.reroute_reports(session)
    return time.perf_counter() - t0, result


def bench_batch(rounds: int) -> dict[str, list[float]]:
    """Seconds of the bare join and of the re-routes, interleaved: bare, re-route after a border moved,
    bare, re-route with nothing changed, in each round (the border moves back and forth, Mapo-gu and
    Seodaemun-gu taking a 300 m strip of each other in turn)."""
    times: dict[str, list[float]] = {"bare": [], "moved": [], "unchanged": []}
    notes: dict[str, str] = {}
    timed_bare_join()  # warm the cache
    for n in range(rounds):
        taker, giver = ("11440", "11410") if n % 2 == 0 else ("11410", "11440")
        secs, matched = timed_bare_join()
        times["bare"].append(secs)
        notes["bare"] = f"{matched:,} pairs"
        move_a_border(taker, giver)
        vacuum()
        secs, moved = timed_reroute()
        times["moved"].append(secs)
        notes["moved"] = f"{moved.candidates:,} candidates, {moved.relocated:,} changed district"
        vacuum()
        secs, matched = timed_bare_join()
        times["bare"].append(secs)
        secs, steady = timed_reroute()
        times["unchanged"].append(secs)
        notes["unchanged"] = f"{steady.candidates:,} candidates, {steady.moved} moved"
        vacuum()
    if rounds % 2:  # leave the city as it was
        move_a_border("11410", "11440")
        timed_reroute()
    for name, note in notes.items():
        print(f"  ({name}: {note})")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000, help="generated reports for the batch benchmark")
    parser.add_argument("--lookups", type=int, default=3000, help="single lookups")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the interleaved batch benchmark")
    args = parser.parse_args()
    if not (SHARED_DATA / "boundaries").exists():
        raise SystemExit(f"needs the shared data at {SHARED_DATA}")
    with bench_database("mapapp_bench_routing"):
        print(generated_city(args.reports))
        print(f"load average before: {load_average()}")
        single = bench_single(args.lookups)
        print(f"single lookup, {args.lookups} points from the 449 ground-truth points (ms), interleaved:")
        bases = {"route()": "bare SQL, prepared", "bare SQL, prepared (pass 2)": "bare SQL, prepared (pass 2)"}
        bases["route(), raw polygons between calls"] = "bare SQL, prepared, raw polygons between calls"
        base = single["bare SQL, prepared"][0]
        for name, (median, p95) in single.items():
            if name in bases:
                base = single[bases[name]][0]
            print(f"  {name:46} median {median:6.3f}  p95 {p95:6.3f}  ({median / base:4.2f}x bare prepared)")
        print(f"  route() throughput on one connection: {1000 / single['route()'][0]:,.0f} lookups/s")
        print(f"batch over {args.reports:,} stored reports, {args.rounds} interleaved rounds, same settings:")
        batch = bench_batch(args.rounds)
        bare = sorted(batch["bare"])
        pairs = (("moved", "re-route after a border moved", 0), ("unchanged", "re-route, nothing changed", 1))
        for name, label, first in pairs:  # each re-route against the bare join timed just before it
            ratios = [b / s for b, s in zip(batch["bare"][first::2], batch[name], strict=True)]
            print(
                f"  {label:32} " + " ".join(f"{s:6.2f}" for s in batch[name]) + " s;  "
                "speed vs the bare join just before: " + " ".join(f"{r:4.2f}x" for r in ratios)
            )
        print("  bare join (same settings)        " + " ".join(f"{s:6.2f}" for s in batch["bare"]) + " s")
        print(f"  median bare {bare[len(bare) // 2]:.2f} s")
        print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
