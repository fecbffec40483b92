"""Office queue benchmark at 1 M reports: the first page of every filter and sort, the triage list, and the CSV
export, each through HTTP against its bare SQL, interleaved (A B A B) in one run.

    .venv/bin/python -m bench.queues [--reports 1000000] [--repeat 30]

The demo city with `--reports` generated reports (`mapapp demo generate`; BENCH_DATABASE / BENCH_REUSE in
bench/common.py keep and reuse one). Ours is the whole GET to a running `mapapp serve` (default workers)
through one keep-alive httpx connection, logged in with a bearer token; the bare side runs the same
statements the endpoint runs (the page and the counts per status; the triage page) through psycopg2 on one
connection, rows fetched. Reported: p50 and p95 of each and the ratio of the p50s. Then the CSV export of
each office through HTTP, and its memory in-process (how much the resident set grew at its peak while
streaming every row): flat when it does not grow with the number of rows.
"""

import argparse
import re
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg2
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import bench_database, generated_city, load_average, serving, summary
from mapapp.accounts import service as accounts
from mapapp.core.actors import Actor
from mapapp.core.db import transaction
from mapapp.offices import queue
from mapapp.offices.models import Office

PASSWORD = "bench password, long enough"
ADMIN = "bench-queues@city.example"
# (label, query parameters) for each office: the desk's default, every sort, every filter.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("unfinished, oldest first (the desk's default)", {"open": True, "sort": "age"}),
    ("every status, oldest first", {"sort": "age"}),
    ("unfinished, newest first", {"open": True, "sort": "newest"}),
    ("unfinished, due first", {"open": True, "sort": "priority"}),
    ("unfinished, most supporters", {"open": True, "sort": "supporters"}),
    ("every status, due first", {"sort": "priority"}),
    ("overdue, oldest first", {"overdue": True, "sort": "age"}),
    ("overdue, due first", {"overdue": True, "sort": "priority"}),
    ("not overdue, oldest first", {"overdue": False, "open": True, "sort": "age"}),
    ("status in_progress", {"status": ["in_progress"], "sort": "age"}),
    ("status resolved, newest", {"status": ["resolved"], "sort": "newest"}),
    ("one category", {"category": "__category__", "open": True, "sort": "age"}),
    ("older than 30 days", {"min_age_hours": 720, "open": True, "sort": "age"}),
    ("search a word", {"q": "__word__", "sort": "age"}),
    ("search a dong", {"q": "__dong__", "sort": "age"}),
    ("search an id", {"q": "__id__"}),
]


def psycopg_sql(sql: str) -> str:
    """SQLAlchemy's :name parameters as psycopg2's %(name)s (casts like ::json left alone)."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


def admin_token(port: int) -> str:
    with transaction() as session:
        if not session.scalar(text("SELECT 1 FROM users WHERE email = :e"), {"e": ADMIN}):
            accounts.create_user(session, email=ADMIN, name="bench", role="admin", password=PASSWORD)
    response = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", json={"email": ADMIN, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["token"])


def fill(params: dict[str, Any], office: Office) -> dict[str, Any]:
    """Real values for the placeholders: a category, a word, a dong and an id of this office's reports."""
    with transaction() as session:
        row = session.execute(
            text(
                "SELECT c.slug, r.public_id, split_part(r.description, ' ', 1) AS word, j.name_ko AS dong "
                "FROM reports r JOIN categories c ON c.id = r.category_id JOIN jurisdictions j ON j.id = r.dong_id "
                "WHERE r.office_id = :o AND r.description <> '' ORDER BY r.id DESC LIMIT 1"
            ),
            {"o": office.id},
        ).one()
    values = {"__category__": row.slug, "__word__": row.word, "__dong__": row.dong, "__id__": row.public_id}
    return {k: values.get(v, v) if isinstance(v, str) else v for k, v in params.items()}


def query_of(params: dict[str, Any]) -> queue.QueueQuery:
    return queue.QueueQuery(
        statuses=params.get("status"),
        open=params.get("open"),
        category=params.get("category"),
        overdue=params.get("overdue"),
        min_age_hours=params.get("min_age_hours"),
        search=params.get("q"),
        sort=params.get("sort", "age"),
    )


def http_params(params: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in params.items():
        for v in value if isinstance(value, list) else [value]:
            out.append((key, str(v).lower() if isinstance(v, bool) else str(v)))
    return out


def interleaved(client: httpx.Client, url: str, params: Any, bare: Any, repeat: int) -> tuple[list[float], list[float]]:
    ours, base = [], []
    for i in range(repeat + 2):  # the first two of each warm up
        t0 = time.perf_counter()
        response = client.get(url, params=params)
        response.read()
        t1 = time.perf_counter()
        bare()
        t2 = time.perf_counter()
        assert response.status_code == 200, response.text[:300]
        if i >= 2:
            ours.append(t1 - t0)
            base.append(t2 - t1)
    return ours, base


def line(label: str, ours: list[float], bare: list[float]) -> str:
    o50, o95 = summary([x * 1000 for x in ours])
    b50, b95 = summary([x * 1000 for x in bare])
    return f"| {label} | {o50:.1f} | {o95:.1f} | {b50:.1f} | {b95:.1f} | {o50 / b50:.2f}x |"


def rss() -> int:
    """This process's resident memory in bytes."""
    status = Path("/proc/self/status").read_text().splitlines()
    line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def csv_memory(actor: Actor, slug: str) -> tuple[int, int, float]:
    """(rows, growth of resident memory at its peak, seconds) of streaming the office's whole CSV in-process."""
    base = peak = rss()
    start = time.perf_counter()
    rows = 0
    for chunk in queue.office_csv(actor=actor, office_slug=slug, query=queue.QueueQuery()):
        rows += chunk.count("\n")
        peak = max(peak, rss())
    return rows - 1, peak - base, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--offices", default="11710-roads,11-water", help="a district office and a city office")
    args = parser.parse_args()
    with bench_database("mapapp_bench_queues") as url:
        print(generated_city(args.reports))
        print(f"load average before: {load_average()}")
        u = make_url(url)
        conn = psycopg2.connect(dbname=u.database, host=u.query.get("host") or u.host, user=u.username)
        conn.autocommit = True
        cur = conn.cursor()
        out = ["| request | ours p50 | ours p95 | bare p50 | bare p95 | ratio p50 |", "|---|---|---|---|---|---|"]
        with serving(url) as port:
            token = admin_token(port)
            with transaction() as session:
                admin_id = session.scalar(text("SELECT id FROM users WHERE email = :e"), {"e": ADMIN})
            actor = Actor(user_id=int(admin_id), email=ADMIN, role="admin", office_id=None)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(timeout=300, headers=headers) as client:
                for slug in args.offices.split(","):
                    with transaction() as session:
                        office = session.query(Office).filter(Office.slug == slug).one()
                        total = session.scalar(
                            text("SELECT count(*) FROM reports WHERE office_id = :o"), {"o": office.id}
                        )
                        session.expunge(office)
                    out.append(f"| **{slug}** ({total:,} reports) | | | | | |")
                    for label, raw in CASES:
                        params = fill(raw, office)
                        query = query_of(params)
                        with transaction() as session:
                            query = query.resolved(session)
                        sql, bound = queue.page_statement(
                            query, actor=actor, office=office, page=1, page_size=queue.PAGE_SIZE
                        )
                        # The statements the endpoint runs: the id check of a one-word search, the page, the counts.
                        steps = [(psycopg_sql(sql), bound), (psycopg_sql(queue.COUNTS_SQL), {"office": office.id})]
                        if query.search and " " not in query.search.strip():
                            steps.insert(0, ("SELECT 1 FROM reports WHERE public_id = %(p)s", {"p": query.search}))

                        def bare(steps: list[tuple[str, dict[str, Any]]] = steps) -> None:
                            for statement, values in steps:
                                cur.execute(statement, values)
                                cur.fetchall()

                        ours, base = interleaved(
                            client,
                            f"http://127.0.0.1:{port}/api/offices/{slug}/queue",
                            http_params(params),
                            bare,
                            args.repeat,
                        )
                        out.append(line(label, ours, base))
                        print(out[-1], flush=True)
                triage_sql = psycopg_sql(queue.TRIAGE_SQL)

                def bare_triage() -> None:
                    cur.execute(triage_sql, {"limit": queue.PAGE_SIZE + 1, "offset": 0})
                    cur.fetchall()

                ours, base = interleaved(client, f"http://127.0.0.1:{port}/api/triage", {}, bare_triage, args.repeat)
                out.append(line("triage list, first page", ours, base))
                print(out[-1], flush=True)
                for slug in args.offices.split(","):
                    times = []
                    for _ in range(2):
                        t0 = time.perf_counter()
                        with client.stream("GET", f"http://127.0.0.1:{port}/api/offices/{slug}/queue.csv") as response:
                            size = sum(len(c) for c in response.iter_bytes())
                        times.append(time.perf_counter() - t0)
                    rows, peak, seconds = csv_memory(actor, slug)
                    out.append(
                        f"CSV export {slug}: {size / 1e6:.1f} MB over HTTP in {statistics.median(times):.2f} s "
                        "(median of 2); "
                        f"in-process {rows:,} rows in {seconds:.2f} s, "
                        f"resident memory grew {peak / 1e6:.1f} MB at its peak"
                    )
                    print(out[-1], flush=True)
        conn.close()
        print(f"load average after: {load_average()}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
