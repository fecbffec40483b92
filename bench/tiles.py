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

Passes: `facilities` (an everyday layer: never held in the in-process cache), `flood` inactive (our own
uncached), `flood` made active with the cache cold (first sight of each tile), and `flood` again with the
cache warm, repeated (up to three times) until a pass finds every tile in the memory of the process it reached.
"""

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import bench_database, generated_city, load_average, serving, wrk
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
BANDS = {"z11-13": (11, 12, 13), "z14": (14,), "z15-17": (15, 16, 17)}


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
    # Then a few looks down at the street, where the walk may not have gone: z15, z16 and z17 over hot spots.
    for hot_lon, hot_lat in rng.sample(hot_spots, min(6, len(hot_spots))):
        for z in (15, 16, 17):
            x, y = tile_of(hot_lon, hot_lat, z)
            tiles += [(z, x + dx, y + dy) for dy in (0, 1) for dx in (-1, 0, 1)]
    return tiles


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fetch(client: httpx.Client, url: str, params: dict[str, object] | None = None) -> tuple[httpx.Response, float]:
    """One GET and its seconds; asked again once when a kept-alive connection was closed as we sent."""
    for attempt in (1, 2):
        start = time.perf_counter()
        try:
            response = client.get(url, params=params)  # type: ignore[arg-type]
            _ = response.content
            return response, time.perf_counter() - start
        except httpx.RemoteProtocolError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def run(
    client: httpx.Client,
    cursor: object,
    layer: str,
    tiles: list[tuple[int, int, int]],
    params: dict[str, object],
    tipg: httpx.Client | None = None,
    bare: bool = True,
) -> tuple[dict[str, dict[int, list[float]]], dict[str, int]]:
    """Each tile from our endpoint, the bare SQL (unless told not) and TiPg (when given), one after the other;
    seconds per zoom."""
    times: dict[str, dict[int, list[float]]] = {"ours": defaultdict(list)}
    if bare:
        times["bare"] = defaultdict(list)
    if tipg is not None:
        times["tipg"] = defaultdict(list)
    caches: dict[str, int] = defaultdict(int)
    for z, x, y in tiles:
        response, seconds = fetch(client, f"/tiles/{layer}/{z}/{x}/{y}.mvt")
        times["ours"][z].append(seconds)
        if tipg is not None:
            url = f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{z}/{x}/{y}"
            try:
                answer, seconds = fetch(tipg, url, TIPG_PARAMS)
                assert answer.status_code in (200, 204), answer.text
                times["tipg"][z].append(seconds)
            except (httpx.HTTPError, AssertionError) as exc:  # counted and said, not hidden
                caches[f"tipg failed: {type(exc).__name__}"] += 1
        assert response.status_code == 200, response.text
        caches[response.headers.get("x-tile-cache", "?")] += 1
        if bare:
            start = time.perf_counter()
            cursor.execute(BARE, {"z": z, "x": x, "y": y} | params)  # type: ignore[attr-defined]
            cursor.fetchone()  # type: ignore[attr-defined]
            times["bare"][z].append(time.perf_counter() - start)
    return times, caches


def report(title: str, times: dict[str, dict[int, list[float]]]) -> None:
    others = [name for name in times if name != "ours"]
    print(f"\n{title}")
    head = "| zoom | tiles | ours p50 | ours p95 | " + " | ".join(
        f"{o} p50 | {o} p95 | {o}/ours p50 | {o}/ours p95 | {o}/ours throughput" for o in others
    )
    print(head + " |")
    print("|---" * (4 + 5 * len(others)) + "|")
    ours = times["ours"]
    rows = {f"z{z}": (z,) for z in sorted(ours)} | BANDS
    for name, zooms in rows.items():
        a = [s for z in zooms for s in ours.get(z, [])]
        if not a:
            continue
        a50, a95 = percentile(a, 0.5), percentile(a, 0.95)
        line = f"| {name} | {len(a)} | {a50 * 1000:.2f} ms | {a95 * 1000:.2f} ms |"
        for other in others:
            b = [s for z in zooms for s in times[other].get(z, [])]
            if not b:
                line += " - | - | - | - | - |"
                continue
            b50, b95 = percentile(b, 0.5), percentile(b, 0.95)
            # Throughput of one client: tiles per second of busy time, the ratio of the mean times.
            line += (
                f" {b50 * 1000:.2f} ms | {b95 * 1000:.2f} ms | {b50 / a50:.1f}x | {b95 / a95:.1f}x |"
                f" {sum(b) / sum(a):.1f}x |"
            )
        print(line)


TIPG_SCHEMA = "tipg_bench"
TIPG_COLLECTION = f"{TIPG_SCHEMA}.facilities_reports"
# TiPg's per-tile feature cap (10,000 by default) silently cuts low-zoom tiles: lifted, here and in its settings.
TIPG_PARAMS = {"limit": 5_000_000, "properties": "id,category,status,status_group,age_days,updated_days,supporters"}
# The facilities layer as TiPg sees it: the same rows and properties as our point tiles and the bare SQL.
TIPG_VIEW = f"""
    CREATE SCHEMA IF NOT EXISTS {TIPG_SCHEMA};
    CREATE OR REPLACE VIEW {TIPG_COLLECTION} AS
    SELECT r.id AS rid, r.geom, r.public_id AS id, c.slug AS category, r.status::text AS status,
           {report_status.group_sql("r.status")} AS status_group,
           floor(extract(epoch FROM now() - r.created_at) / 86400)::int AS age_days,
           floor(extract(epoch FROM now() - r.updated_at) / 86400)::int AS updated_days,
           r.support_count AS supporters
    FROM reports r JOIN categories c ON c.id = r.category_id
    WHERE r.layer_id = (SELECT id FROM layers WHERE slug = 'facilities')
       OR ('facilities' = ANY(c.also_on) AND {report_status.open_sql("r.status")});
"""  # noqa: S608 - constants only


@contextmanager
def tipg_server(dsn: str) -> Iterator[httpx.Client | None]:
    """TiPg (developmentseed/tipg, from PyPI) on a free port, serving TIPG_VIEW; None when it is not installed."""
    python = os.environ.get("TIPG_PYTHON", "")
    if not python or not Path(python).exists():
        print("TiPg: not run (set TIPG_PYTHON to a Python with `pip install tipg uvicorn`)")
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    # TiPg's settings want a host in the URL; a socket directory given as ?host= is what asyncpg then uses.
    url = make_url(dsn)
    if not url.host:
        socket_dir = url.query.get("host", "/var/run/postgresql")
        url = url.set(host="localhost", query={"host": socket_dir})
    env = dict(
        os.environ,
        DATABASE_URL=url.render_as_string(hide_password=False),
        TIPG_DB_SCHEMAS=f'["{TIPG_SCHEMA}"]',
        TIPG_MAX_FEATURES_PER_TILE="5000000",
        TIPG_TILE_BUFFER="64",  # as ours and the bare SQL
        TIPG_DEFAULT_FEATURES_LIMIT="10000",
    )
    log = open(os.environ.get("TIPG_LOG", os.devnull), "w")  # noqa: SIM115 - closed with the server
    server = subprocess.Popen(
        # Keep-alive longer than a slow tile of the other two sides, so a reused connection is never closed under us.
        [
            python,
            "-m",
            "uvicorn",
            "tipg.main:app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--timeout-keep-alive",
            "600",
        ],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for _ in range(150):
                try:
                    if client.get(f"/collections/{TIPG_COLLECTION}").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.3)
            else:
                raise RuntimeError("TiPg did not come up with the collection")
            yield client
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def ratio_line(name: str, base: dict[int, list[float]], fast: dict[int, list[float]]) -> str:
    a = [s for v in base.values() for s in v]
    b = [s for v in fast.values() for s in v]
    return (
        f"{name}: p50 {statistics.median(a) * 1000:.2f} -> {statistics.median(b) * 1000:.2f} ms; "
        f"throughput {len(a) / sum(a):.0f} -> {len(b) / sum(b):.0f} tiles/s "
        f"({sum(a) / len(a) / (sum(b) / len(b)):.1f}x)"
    )


def trace_script(layer: str, tiles: list[tuple[int, int, int]]) -> str:
    """wrk's Lua: the trace's tile URLs in turn (each thread from its own place), counting X-Tile-Cache."""
    paths = ", ".join(f'"/tiles/{layer}/{z}/{x}/{y}.mvt"' for z, x, y in tiles)
    return (
        "local threads = {}\n"
        "function setup(thread) table.insert(threads, thread) end\n"
        f"paths = {{{paths}}}\n"
        "function init(args) i = math.random(#paths); hits = 0; misses = 0 end\n"
        'function request() i = i % #paths + 1; return wrk.format("GET", paths[i]) end\n'
        "function response(status, headers, body)\n"
        '  local c = headers["x-tile-cache"] or headers["X-Tile-Cache"]\n'
        '  if c == "hit" then hits = hits + 1 elseif c == "miss" then misses = misses + 1 end\n'
        "end\n"
        "function done(summary, latency, requests)\n"
        "  local h, m = 0, 0\n"
        '  for _, t in ipairs(threads) do h = h + t:get("hits"); m = m + t:get("misses") end\n'
        '  io.write(string.format("SCRIPT hits=%d misses=%d\\n", h, m))\n'
        "end\n"
    )


def concurrent_passes(port: int, tiles: list[tuple[int, int, int]], seconds: int, connections: int) -> None:
    """Throughput with `connections` in flight (wrk): flood inactive (never cached) against flood active with
    its tiles in memory, interleaved A B A B. The switch reaches the server within MAPAPP_VERSION_SECONDS."""
    script = trace_script("flood", tiles)
    rates: dict[str, list[float]] = defaultdict(list)
    for round_ in range(2):
        for name, state in (("uncached (flood inactive)", "inactive"), ("cache warm (flood active)", "active")):
            with transaction() as session:
                switch = "UPDATE layers SET state = :s, active_until = NULL WHERE slug = 'flood'"
                session.execute(text(switch), {"s": state})
            time.sleep(2)
            if state == "active" and round_ == 0:
                wrk(port, script, 5, connections)  # every process sees every tile once
            rps, summary, printed = wrk(port, script, seconds, connections)
            rates[name].append(rps)
            print(
                f"wrk {connections} connections, {name}, round {round_ + 1}: {rps:.0f} tiles/s ({summary}; {printed})"
            )
    uncached, warm = (statistics.mean(v) for v in rates.values())
    print(f"concurrent, warm cache vs uncached: {uncached:.0f} -> {warm:.0f} tiles/s ({warm / uncached:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=60, help="trace steps (6 tiles each)")
    parser.add_argument("--wrk-seconds", type=int, default=10, help="seconds of each concurrent (wrk) pass")
    parser.add_argument(
        "--ours-only", type=int, default=0, metavar="N", help="only N passes of our endpoint on facilities"
    )
    args = parser.parse_args()
    with bench_database("bench_tiles") as url:
        print(generated_city(args.reports))
        with transaction() as session:
            count = session.scalar(text("SELECT count(*) FROM reports"))
            hot = [
                tuple(p)
                for p in session.execute(
                    text("SELECT ST_X(geom), ST_Y(geom) FROM reports TABLESAMPLE SYSTEM (0.1) REPEATABLE (1) LIMIT 200")
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
            session.execute(text("UPDATE layers SET state = 'inactive' WHERE slug = 'flood'"))
            if not args.ours_only:
                session.execute(text(TIPG_VIEW))
        tiles = trace(hot, args.steps)
        print(f"{count:,} reports; {len(tiles)} tiles in the trace; load average {load_average()}")
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        if args.ours_only:  # our latency with nothing else in between (the baselines also load the machine)
            with serving(url) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                client.get("/tiles/facilities.json")
                for i in range(args.ours_only):
                    times, caches = run(client, None, "facilities", tiles, {}, bare=False)
                    report(f"facilities, ours only, pass {i + 1} {dict(caches)}; load {load_average()}", times)
            return
        with (
            psycopg2.connect(dsn) as conn,
            conn.cursor() as cursor,
            serving(url) as port,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client,
            tipg_server(dsn) as tipg,
        ):
            for layer in ("facilities", "flood"):  # warm the connections and the OS page cache, not our cache
                client.get(f"/tiles/{layer}.json")
            lid, also = layers["facilities"]
            times, caches = run(client, cursor, "facilities", tiles, {"layer_id": lid, "also_ids": also}, tipg)
            report(f"facilities (everyday layer, no in-process cache) {dict(caches)}", times)
            lid, also = layers["flood"]
            flood = {"layer_id": lid, "also_ids": also}
            # Our own three passes on flood: the baselines were timed above, and they are slow at low zooms.
            uncached, caches = run(client, cursor, "flood", tiles, flood, bare=False)
            report(f"flood, inactive: no in-process cache {dict(caches)}", uncached)
            with transaction() as session:
                session.execute(text("UPDATE layers SET state = 'active', active_until = NULL WHERE slug = 'flood'"))
            cold, caches = run(client, cursor, "flood", tiles, flood, bare=False)
            report(f"flood, active, cache cold {dict(caches)}", cold)
            # Each server process keeps its own tiles, and a new connection may land on another process: pass
            # again until one pass finds every tile in memory (at most three).
            for attempt in range(1, 4):
                warm, caches = run(client, cursor, "flood", tiles, flood, bare=False)
                report(f"flood, active, cache warm (pass {attempt}) {dict(caches)}", warm)
                if not caches.get("miss"):
                    break
            print(
                "\n" + ratio_line("flood, warm cache vs uncached (inactive), all zooms", uncached["ours"], warm["ours"])
            )
            print(ratio_line("flood, warm cache vs the first active pass", cold["ours"], warm["ours"]))
            if shutil.which("wrk"):
                concurrent_passes(port, tiles, args.wrk_seconds, 8)
            else:
                print("wrk not installed (apt-get install wrk): no concurrent passes")
        with transaction() as session:
            session.execute(text("UPDATE layers SET state = 'inactive' WHERE slug = 'flood'"))
            session.execute(text(f"DROP SCHEMA {TIPG_SCHEMA} CASCADE"))
        print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
