"""Map read benchmark: GET /api/reports for a box holding 10,000 reports against the bare SQL that
builds the same FeatureCollection, sent through psycopg2.

    .venv/bin/python -m bench.geojson [--reports 10000] [--repeat 15]

Makes and drops its own database with the demo city, 10,000 reports inside the box and as many
outside it. Our path is the whole request: HTTP to a running `mapapp serve`, parameters checked,
the SQL, and the bytes passed through, timed by wrk (one connection, requests back to back) so that
a Python client's own parsing is not counted. Needs wrk (Debian: apt-get install wrk).
"""

import argparse
import re
import statistics
import subprocess
import time

import httpx
import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import PROJECT, bench_database, serving
from mapapp import demo
from mapapp.core.db import transaction
from mapapp.layers import service as layers
from mapapp.reports.queries import FEATURE_SQL, FROM_SQL, MEDIA

BOX = (126.95, 37.52, 127.05, 37.58)

BARE_SQL = f"""
    SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(f.feature), '[]'::json))::text
    FROM (SELECT {FEATURE_SQL} AS feature {FROM_SQL}
          WHERE r.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)
          ORDER BY r.id DESC LIMIT 10001) f
"""  # noqa: S608 - fixed SQL


def seed(count: int) -> None:
    with transaction() as session:
        demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=10)
        for box, n in ((BOX, count), ((126.80, 37.45, 126.94, 37.51), count)):
            session.execute(
                text(
                    """
                    INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel,
                                         locale, location_source, office_id, district_id, routing_rule,
                                         routing_manual, support_count)
                    SELECT 'G' || substr(md5(random()::text), 1, 12), c.layer_id, c.id,
                           ST_SetSRID(ST_MakePoint(:w + random() * (:e - :w), :s + random() * (:n - :s)), 4326),
                           'bench', (ARRAY['routed', 'in_progress', 'resolved'])[1 + g % 3], 'demo', 'ko', 'pin',
                           NULL, NULL, '', false, g % 4
                    FROM generate_series(1, :count) g
                    JOIN LATERAL (SELECT id, layer_id FROM categories ORDER BY id OFFSET (g % 13) LIMIT 1) c ON true
                    """
                ),
                {"w": box[0], "s": box[1], "e": box[2], "n": box[3], "count": n},
            )
    from mapapp import routing

    with transaction() as session:
        routing.reroute_reports(session)


def wrk_mean_seconds(url: str, seconds: int = 3) -> float:
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", url], capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return seconds / max(requests, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with bench_database("mapapp_bench_geojson") as url:
        seed(args.reports)
        u = make_url(url)
        conn = psycopg2.connect(dbname=u.database, host=u.query.get("host") or u.host, user=u.username)
        cur = conn.cursor()
        params = {"media": MEDIA, "w": BOX[0], "s": BOX[1], "e": BOX[2], "n": BOX[3]}
        bare_times, sizes = [], set()
        with serving(url) as port:
            url_path = f"/api/reports?bbox={','.join(map(str, BOX))}&limit=10000"
            response = httpx.get(f"http://127.0.0.1:{port}{url_path}", timeout=60)
            features = len(response.json()["features"])
            ours_times = []
            for i in range(args.repeat + 2):  # interleaved; the first two of each warm up
                t0 = time.perf_counter()
                cur.execute(BARE_SQL.replace(":media", "%(media)s"), params)
                body = cur.fetchone()[0]
                t1 = time.perf_counter()
                if i >= 2:
                    bare_times.append(t1 - t0)
                if i % 3 == 2:
                    ours_times.append(wrk_mean_seconds(f"http://127.0.0.1:{port}{url_path}"))
                sizes.add((len(body), len(response.content), features))
        bare, ours = statistics.median(bare_times) * 1000, statistics.median(ours_times) * 1000
        print(
            f"box with {args.reports:,} reports (plus {args.reports:,} outside it); "
            f"bare bytes, our bytes, features: {sizes}"
        )
        print(f"  bare SQL through psycopg2         {bare:8.1f} ms")
        print(f"  GET /api/reports (whole request) {ours:8.1f} ms   ({ours / bare:.2f}x bare)")


if __name__ == "__main__":
    main()
