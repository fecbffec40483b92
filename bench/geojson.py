"""Map read benchmark: GET /api/reports for boxes holding about 1,000, 10,000 and 50,000 reports against
the bare SQL that builds the same FeatureCollection, including the window function paging needs.

    .venv/bin/python -m bench.geojson [--reports 1000000] [--repeat 15]

The demo city with `--reports` generated reports (`mapapp demo generate`). Both sides are timed the same
way, by the same client, one request after the other (A B A B), and compared median against median:
ours is the whole HTTP request to a running `mapapp serve` (default workers), through one keep-alive
httpx connection, body read as bytes; the bare SQL goes through psycopg2 on one connection, the JSON
taken as bytes too. A box holding more than the endpoint's maximum page (10,000) is asked for one page.
"""

import argparse
import statistics
import time

import httpx
import psycopg2
import psycopg2.extensions
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import RawHttp, bench_database, generated_city, load_average, serving
from mapapp.core import visibility
from mapapp.core.db import get_engine, transaction
from mapapp.reports.queries import MAX_LIMIT, MEDIA, collection_sql, read_box_first

CENTRE = (126.9780, 37.5665)  # Seoul City Hall


def bare_sql(box_first: bool) -> str:
    """The endpoint's statement with nothing of the app around it, for psycopg2: the same shape the endpoint
    picks for the box (queries.read_box_first), limit + 1 rows numbered by the window function paging needs,
    the page aggregated in SQL, the last id kept for the next page's cursor."""
    where = f"r.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326) AND {visibility.report_public_sql('r')}"
    sql = collection_sql(where, box_first=box_first)
    for name in ("media", "west", "south", "east", "north", "limit"):
        sql = sql.replace(f":{name}", f"%({name})s")
    return sql


def box_holding(target: int) -> tuple[tuple[float, float, float, float], int]:
    """A box around City Hall holding about `target` reports (grown until it does), and its count."""
    half = 0.002
    with get_engine().connect() as conn:
        while half < 1:  # past the whole city: the table holds fewer than `target`
            box = (CENTRE[0] - half * 1.26, CENTRE[1] - half, CENTRE[0] + half * 1.26, CENTRE[1] + half)
            count = conn.execute(
                text("SELECT count(*) FROM reports WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
                {"w": box[0], "s": box[1], "e": box[2], "n": box[3]},
            ).scalar_one()
            if count >= target:
                return box, count
            half *= 1.1
    return box, count


def run_box(
    port: int, cur: psycopg2.extensions.cursor, target: int, repeat: int, client_kind: str = "raw"
) -> dict[str, object]:
    box, count = box_holding(target)
    limit = min(target, MAX_LIMIT)
    path = f"/api/reports?bbox={','.join(f'{v:.6f}' for v in box)}&limit={limit}"
    west, south, east, north = (round(v, 6) for v in box)
    params = {"media": MEDIA, "west": west, "south": south, "east": east, "north": north, "limit": limit + 1}
    with transaction() as session:
        box_first = read_box_first(session, (west, south, east, north), limit)
    statement = bare_sql(box_first)
    ours, bare, sizes = [], [], set()
    raw = RawHttp(port) if client_kind == "raw" else None
    with httpx.Client(timeout=120) as client:
        for i in range(repeat + 2):  # interleaved; the first two of each warm up
            t0 = time.perf_counter()
            if raw is not None:
                status, _, ours_body = raw.get(path)
            else:
                response = client.get(f"http://127.0.0.1:{port}{path}")
                status, ours_body = response.status_code, response.content
            t1 = time.perf_counter()
            cur.execute(statement, params)
            bare_body = cur.fetchone()[2]
            t2 = time.perf_counter()
            assert status == 200, ours_body[:200]
            if i >= 2:
                ours.append(t1 - t0)
                bare.append(t2 - t1)
            sizes.add((len(bytes(bare_body)), len(ours_body)))
    if raw is not None:
        raw.close()
    return {
        "target": target,
        "in box": count,
        "shape": "box first" if box_first else "newest first",
        "limit": limit,
        "bytes (bare, ours)": sorted(sizes),
        "bare": statistics.median(bare) * 1000,
        "ours": statistics.median(ours) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--boxes", default="1000,10000,50000", help="reports per box")
    parser.add_argument(
        "--client", choices=("raw", "httpx", "both"), default="both", help="how our side reads its answer"
    )
    args = parser.parse_args()
    with bench_database("mapapp_bench_geojson") as url:
        print(generated_city(args.reports))
        print(f"load average before: {load_average()}")
        u = make_url(url)
        conn = psycopg2.connect(dbname=u.database, host=u.query.get("host") or u.host, user=u.username)
        cur = conn.cursor()
        psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cur)  # bytes, as the endpoint takes them
        with serving(url) as port:
            kinds = ("raw", "httpx") if args.client == "both" else (args.client,)
            rows = [
                run_box(port, cur, int(target), args.repeat, kind) | {"client": kind}
                for target in args.boxes.split(",")
                if int(target) <= args.reports
                for kind in kinds
            ]
        conn.close()
        print(f"load average after: {load_average()}")
    for row in rows:
        bare, ours = float(row["bare"]), float(row["ours"])  # type: ignore[arg-type]
        print(
            f"[{row['client']} client] box of ~{row['target']:,} reports ({row['in box']:,} in it, "
            f"limit {row['limit']:,}, {row['shape']}; "
            f"bytes {row['bytes (bare, ours)']}): bare SQL {bare:7.1f} ms, GET /api/reports {ours:7.1f} ms "
            f"median ({ours / bare:.2f}x bare)"
        )


if __name__ == "__main__":
    main()
