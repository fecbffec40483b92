"""Public indicators benchmark: GET /api/stats against the bare SQL of the same figures, at 1 M reports.

    BENCH_DATABASE=mapapp_bench_stats BENCH_KEEP=1 BENCH_REUSE=1 .venv/bin/python -m bench.stats [--reports 1000000]

Cases: the city, a district and an office, each over the last 30 days, the last year and the longest
period (731 days), the district and office drawn at random (seeded) for each request. Ours is the whole
HTTP request to `mapapp serve --workers 1` over one keep-alive httpx connection (parsing, the scope, the
statements, the JSON answer); the bare SQL is the same statements (the scope's id, then
mapapp.stats.service.STATEMENTS) on one psycopg2 connection, rows fetched and nothing else. Each request
is asked of both, one after the other (A B A B). The view is rebuilt once first (timed) and not during the run
(MAPAPP_STATS_REFRESH_SECONDS=0).

For scale, the same city figures for the last 30 days computed live from reports and events (the view's
own SELECT, narrowed to the city) are timed once: that is what the view saves each request.
"""

import argparse
import os
import random
import time
from datetime import date, timedelta

import httpx
import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import bench_database, generated_city, load_average, serving, summary
from mapapp.core.db import get_engine, transaction
from mapapp.reports.models import CHANNELS
from mapapp.stats import service, views

PERIODS = {"30 days": 30, "1 year": 365, "731 days": 731}


def psycopg_params(sql: str, params: dict[str, object]) -> tuple[str, dict[str, object]]:
    """SQLAlchemy's :name binds as psycopg2's %(name)s."""
    import re

    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%")), params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60, help="per case and side")
    parser.add_argument("--keep-view", action="store_true", help="use the view as it is (BENCH_REUSE), no rebuild")
    parser.add_argument("--no-live", action="store_true", help="skip the minutes-long live query")
    args = parser.parse_args()
    os.environ["MAPAPP_STATS_REFRESH_SECONDS"] = "0"
    with bench_database("mapapp_bench_stats") as url:
        print(generated_city(args.reports))
        if not args.keep_view:
            with transaction() as session:
                started = time.perf_counter()
                service.refresh(session)
            service.vacuum(get_engine())
            print(f"view rebuilt and vacuumed in {time.perf_counter() - started:.1f} s")
        with transaction() as session:
            rows = session.scalar(text(f"SELECT count(*) FROM {views.VIEW}"))  # noqa: S608 - a constant
            districts = [r[0] for r in session.execute(text("SELECT code FROM jurisdictions WHERE level = 'district'"))]
            offices = [r[0] for r in session.execute(text("SELECT slug FROM offices"))]
            count = session.scalar(text("SELECT count(*) FROM reports"))
        print(f"{count:,} reports; {rows:,} view rows; load average {load_average()}")
        pg = psycopg2.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))
        pg.autocommit = True
        cur = pg.cursor()
        rng = random.Random(1)
        today = service.city_today()
        print("| scope | period | requests | ours p50 | ours p95 | bare SQL p50 | bare SQL p95 | ours/bare p50 |")
        print("|---|---|---|---|---|---|---|---|")
        with serving(url, workers=1) as port, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            client.get("/api/stats").raise_for_status()
            for kind, codes in (("city", [None]), ("district", districts), ("office", offices)):
                for label, days in PERIODS.items():
                    ours, bare = [], []
                    start = today - timedelta(days=days - 1)
                    for _ in range(args.requests):
                        code = rng.choice(codes)
                        query = {"scope": kind, "from": start.isoformat(), "to": today.isoformat()}
                        if code:
                            query["code"] = code
                        t = time.perf_counter()
                        response = client.get("/api/stats", params=query)
                        ours.append(time.perf_counter() - t)
                        assert response.status_code == 200, response.text
                        t = time.perf_counter()
                        bare_request(cur, kind, code, start, today)
                        bare.append(time.perf_counter() - t)
                    (o50, o95), (b50, b95) = summary(ours), summary(bare)
                    print(
                        f"| {kind} | {label} | {args.requests} | {o50 * 1000:.1f} ms | {o95 * 1000:.1f} ms "
                        f"| {b50 * 1000:.1f} ms | {b95 * 1000:.1f} ms | {o50 / b50:.2f} |"
                    )
        live_sql = views.view_query("Asia/Seoul").replace("WHERE true", "WHERE r.city_id IS NOT NULL")
        month = today - timedelta(days=29)
        live = []
        for _ in range(0 if args.no_live else 1):  # minutes at a million reports: once says what the view saves
            t = time.perf_counter()
            cur.execute(
                f"SELECT sum(received) FROM ({live_sql}) v WHERE scope_kind = 'city' AND dim = 'all' "  # noqa: S608
                "AND day BETWEEN %s AND %s",
                (month, today),
            )
            cur.fetchall()
            live.append(time.perf_counter() - t)
        if live:
            print(f"live from reports and events (no view), city, 30 days: {min(live):.1f} s")
        print(f"load average after: {load_average()}")
        pg.close()


def bare_request(cur: "psycopg2.extensions.cursor", kind: str, code: str | None, start: date, end: date) -> None:
    """The statements of one answer, as service.indicators sends them (scope looked up first)."""
    if kind == "office":
        cur.execute("SELECT id FROM offices WHERE slug = %s", (code,))
    else:
        cur.execute(
            "SELECT id FROM jurisdictions WHERE level = %s AND retired_at IS NULL AND (%s IS NULL OR code = %s) "
            "ORDER BY code LIMIT 1",
            (kind, code, code),
        )
    scope_id = cur.fetchone()[0]
    params = {
        "kind": kind,
        "id": scope_id,
        "start": start,
        "end": end,
        "channels": list(CHANNELS),
        "hists": list(views.HISTOGRAMS),
        "buckets": len(views.BUCKET_LOWER_HOURS),
    }
    params["every"] = 10**9
    for sql in service.STATEMENTS.values():
        cur.execute(*psycopg_params(sql, params))
        cur.fetchall()


if __name__ == "__main__":
    main()
