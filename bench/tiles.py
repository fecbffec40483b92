"""Vector tile benchmark: a pan-and-zoom trace over the city at zooms 11-17, through GET /tiles/..., against
the bare ST_AsMVT SQL of the same points on the same database.

    BENCH_DATABASE=tiles_bench BENCH_KEEP=1 BENCH_REUSE=1 .venv/bin/python -m bench.tiles [--reports 1000000]

The trace: a viewer opens the city at z11 and wanders (pans to a neighbour, zooms in on where reports are,
zooms out), taking the 3 x 2 tiles of the view at each step, a few hundred tiles in all, the same each run
(seeded). Ours is the whole HTTP request to `mapapp serve` (default workers) over one keep-alive httpx
connection; the bare SQL is one statement per tile on one psycopg2 connection: every report of the layer
in the tile as an ST_AsMVT point with the same properties (what a plain tile server does at every zoom).
Neither side is a server-side prepared statement (the app's SQLAlchemy text() is not, so the bare SQL is
not either). Each tile is asked of both, one after the other (A B A B).

Three passes: `facilities` (an everyday layer: never held in the in-process cache), `flood` made active
with the cache cold (first sight of each tile), and `flood` again with the cache warm.
"""

import argparse
import random
import statistics
import time
from collections import defaultdict

import httpx
import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import bench_database, generated_city, load_average, serving
from mapapp.core import status as report_status
from mapapp.core.db import transaction

BARE = f"""
    WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
                           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 4326) AS geo)
    SELECT ST_AsMVT(t, 'reports', 4096, 'geom') FROM (
        SELECT ST_AsMVTGeom(ST_Transform(r.geom, 3857), bounds.merc, 4096, 64, true) AS geom,
               r.public_id AS id, c.slug AS category, r.status,
               {report_status.group_sql("r.status")} AS status_group,
               floor(extract(epoch FROM now() - r.created_at) / 86400)::int AS age_days,
               floor(extract(epoch FROM now() - r.updated_at) / 86400)::int AS updated_days,
               r.support_count AS supporters
        FROM reports r JOIN categories c ON c.id = r.category_id, bounds
        WHERE r.geom && bounds.geo AND (r.layer_id = %(layer_id)s
               OR (r.category_id = ANY(%(also_ids)s) AND {report_status.open_sql("r.status")}))
    ) t
"""  # noqa: S608 - constants only
BANDS = {"z11-13": (11, 12, 13), "z14-15": (14, 15), "z16-17": (16, 17)}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    import math

    n = 2**z
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)


def trace(hot_spots: list[tuple[float, float]], steps: int, seed: int = 1) -> list[tuple[int, int, int]]:
    """The tiles a viewer asks for while panning and zooming, in order (repeats included, as a browser would)."""
    rng = random.Random(seed)
    lon, lat, z = 126.9780, 37.5665, 11
    tiles: list[tuple[int, int, int]] = []
    for _ in range(steps):
        move = rng.random()
        if move < 0.35 and z < 17:
            # Zoom in towards reports: most people look where things happen.
            target = rng.choice(hot_spots)
            lon, lat, z = (lon + target[0]) / 2, (lat + target[1]) / 2, z + 1
        elif move < 0.55 and z > 11:
            z -= 1
        else:
            span = 360 / 2**z
            lon += rng.choice((-1, 0, 1)) * span * 0.8
            lat += rng.choice((-1, 0, 1)) * span * 0.6
        lon, lat = min(max(lon, 126.80), 127.15), min(max(lat, 37.45), 37.68)
        x, y = tile_of(lon, lat, z)
        tiles += [(z, x + dx, y + dy) for dy in (0, 1) for dx in (-1, 0, 1)]
    return tiles


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(
    client: httpx.Client, cursor: object, layer: str, tiles: list[tuple[int, int, int]], params: dict[str, object]
) -> tuple[dict[int, list[float]], dict[int, list[float]], dict[str, int]]:
    """Each tile from our endpoint and from the bare SQL, alternately; seconds per zoom for both."""
    ours: dict[int, list[float]] = defaultdict(list)
    bare: dict[int, list[float]] = defaultdict(list)
    caches: dict[str, int] = defaultdict(int)
    for z, x, y in tiles:
        start = time.perf_counter()
        response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
        _ = response.content
        ours[z].append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
        caches[response.headers.get("x-tile-cache", "?")] += 1
        start = time.perf_counter()
        cursor.execute(BARE, {"z": z, "x": x, "y": y} | params)  # type: ignore[attr-defined]
        cursor.fetchone()  # type: ignore[attr-defined]
        bare[z].append(time.perf_counter() - start)
    return ours, bare, caches


def report(title: str, ours: dict[int, list[float]], bare: dict[int, list[float]]) -> None:
    print(f"\n{title}")
    print("| zoom | tiles | ours p50 | ours p95 | bare p50 | bare p95 | bare/ours p50 | bare/ours p95 |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {f"z{z}": (z,) for z in sorted(ours)} | BANDS
    for name, zooms in rows.items():
        a = [s for z in zooms for s in ours.get(z, [])]
        b = [s for z in zooms for s in bare.get(z, [])]
        if not a:
            continue
        a50, a95, b50, b95 = (percentile(a, 0.5), percentile(a, 0.95), percentile(b, 0.5), percentile(b, 0.95))
        print(
            f"| {name} | {len(a)} | {a50 * 1000:.2f} ms | {a95 * 1000:.2f} ms | {b50 * 1000:.2f} ms | "
            f"{b95 * 1000:.2f} ms | {b50 / a50:.1f}x | {b95 / a95:.1f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=60, help="trace steps (6 tiles each)")
    args = parser.parse_args()
    with bench_database("bench_tiles") as url:
        print(generated_city(args.reports))
        with transaction() as session:
            count = session.scalar(text("SELECT count(*) FROM reports"))
            hot = [
                tuple(p)
                for p in session.execute(
                    text("SELECT ST_X(geom), ST_Y(geom) FROM reports TABLESAMPLE SYSTEM (0.1) LIMIT 200")
                )
            ]
            layers = {
                slug: (lid, list(also))
                for slug, lid, also in session.execute(
                    text(
                        "SELECT l.slug, l.id, ARRAY(SELECT c.id FROM categories c WHERE l.slug = ANY(c.also_on))"
                        " FROM layers l"
                    )
                )
            }
            session.execute(text("UPDATE layers SET state = 'active', active_until = NULL WHERE slug = 'flood'"))
        tiles = trace(hot, args.steps)
        print(f"{count:,} reports; {len(tiles)} tiles in the trace; load average {load_average()}")
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with (
            psycopg2.connect(dsn) as conn,
            conn.cursor() as cursor,
            serving(url) as port,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
        ):
            for layer in ("facilities", "flood"):  # warm the connections and the OS page cache, not our cache
                client.get(f"/tiles/{layer}.json")
            lid, also = layers["facilities"]
            ours, bare, caches = run(client, cursor, "facilities", tiles, {"layer_id": lid, "also_ids": also})
            report(f"facilities (everyday layer, no in-process cache) {dict(caches)}", ours, bare)
            lid, also = layers["flood"]
            ours_cold, bare_cold, caches = run(client, cursor, "flood", tiles, {"layer_id": lid, "also_ids": also})
            report(f"flood, active, cache cold {dict(caches)}", ours_cold, bare_cold)
            ours_warm, bare_warm, caches = run(client, cursor, "flood", tiles, {"layer_id": lid, "also_ids": also})
            report(f"flood, active, cache warm {dict(caches)}", ours_warm, bare_warm)
            cold = [s for v in ours_cold.values() for s in v]
            warm = [s for v in ours_warm.values() for s in v]
            cold50, warm50 = statistics.median(cold), statistics.median(warm)
            print(
                "\nflood, warm cache vs our uncached (cold) run of the same tiles, all zooms: "
                f"p50 {cold50 * 1000:.2f} -> {warm50 * 1000:.2f} ms ({cold50 / warm50:.1f}x); "
                f"throughput {len(cold) / sum(cold):.0f} -> {len(warm) / sum(warm):.0f} tiles/s "
                f"({sum(cold) / len(cold) / (sum(warm) / len(warm)):.1f}x)"
            )
        with transaction() as session:
            session.execute(text("UPDATE layers SET state = 'inactive' WHERE slug = 'flood'"))
        print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
