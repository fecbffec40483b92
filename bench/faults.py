"""Fault benchmark: submissions from many retrying clients while the database stops and starts.

    .venv/bin/python -m bench.faults [--reports 2000] [--clients 50] [--outage 10]

2,000 reports (a third with real photos from ../shared/data/photos) from 50 client threads, each
retrying with its own Idempotency-Key until it gets an answer it can keep, against `mapapp serve
--workers 2` and a `mapapp worker` delivering to a local SMTP sink and a local webhook sink. A third of
the way in, the PostgreSQL cluster is stopped for `--outage` seconds and started again (needs root and
Debian's pg_ctlcluster; the bench database lives on that cluster). To leave the main cluster alone:

    pg_createcluster 15 faults -p 5433 --start
    MAPAPP_DATABASE_URL=postgresql+psycopg2://postgres@127.0.0.1:5433/postgres \
        .venv/bin/python -m bench.faults --cluster faults
 Afterwards every invariant is
checked: one report per key, every photo row's files present, no unreferenced file left after the
cleanup's grace, every outbox message delivered exactly once. Then 16 concurrent 60 MP uploads measure
the server's peak RSS. Prints the figures recorded in docs/benchmarks.md.
"""

import argparse
import io
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import create_engine, text

from bench.common import PROJECT, SHARED_DATA, bench_database
from mapapp import demo
from mapapp.core.db import transaction
from mapapp.core.settings import get_settings
from mapapp.layers import service as layers

PHOTOS = [
    *sorted((SHARED_DATA / "photos" / "orientation").glob("*.jpg")),
    SHARED_DATA / "photos" / "gps" / "DSCN0010.jpg",
    SHARED_DATA / "photos" / "gps" / "DSCN0021.jpg",
]
CATEGORIES = ["streetlight-out", "pothole", "manhole-cover", "damaged-sidewalk", "traffic-signal-fault"]


def _points() -> list[tuple[float, float]]:
    """Points inside Seoul's dong (the shared ground-truth file): every report lands in the city."""
    import csv

    with (SHARED_DATA / "boundaries" / "seoul_dong_inner_points_expected_gu.csv").open(encoding="utf-8") as f:
        return [(float(row["lon_wgs84"]), float(row["lat_wgs84"])) for row in csv.DictReader(f)]


POINTS = _points()


class Sinks:
    """A local SMTP server and a local webhook server that count what they receive, by message id."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.emails: Counter[str] = Counter()
        self.webhooks: Counter[str] = Counter()
        sinks = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                match = re.search(rb"^Message-ID:\s*(\S+)", envelope.content, re.I | re.M)
                sinks.emails[match.group(1).decode() if match else "?"] += 1
                return "250 OK"

        # aiosmtpd connects to its own port to see that it started: it needs a real one, not 0.
        self.smtp_port = _free_port()
        self.smtp = Controller(Handler(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()

        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sinks.webhooks[self.headers.get("X-Mapapp-Delivery", "?")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        self.webhook_url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.smtp.stop()
        self.http.shutdown()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process and its children, in MB."""
    pids = [
        pid,
        *(int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()),
    ]
    now = peak = 0.0
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        now += int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
        peak += int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    return now, peak


def _pg(action: str, cluster: str) -> None:
    major = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            major,
            cluster,
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
    )


class Run:
    """The submitting clients and what they saw."""

    def __init__(self, base: str, reports: int, photos: list[bytes]) -> None:
        self.base, self.reports, self.photos = base, reports, photos
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.outage_errors = 0
        self.outage: tuple[float, float] | None = None
        self.first_success_after_outage: float | None = None
        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()

    def submit(self, n: int) -> None:
        key = f"faults-{uuid.uuid4()}"
        rng = random.Random(n)
        fields = {
            "layer": "facilities",
            "category": rng.choice(CATEGORIES),
            "lat": f"{POINTS[n % len(POINTS)][1]:.6f}",
            "lon": f"{POINTS[n % len(POINTS)][0]:.6f}",
            "description": f"fault run report {n}",
            "email": f"citizen{n}@example.org",
        }
        files = [("photos", (f"p{n}.jpg", self.photos[n % len(self.photos)], "image/jpeg"))] if n % 3 == 0 else None
        delay = 0.2
        with httpx.Client(base_url=self.base, timeout=60) as client:
            while True:
                start = time.perf_counter()
                try:
                    response = client.post("/api/reports", data=fields, files=files, headers={"Idempotency-Key": key})
                    status = str(response.status_code)
                except httpx.HTTPError as exc:
                    response, status = None, type(exc).__name__
                elapsed = time.perf_counter() - start
                now = time.monotonic()
                with self.lock:
                    self.statuses[status] += 1
                    in_outage = (
                        self.outage is not None
                        and self.outage[0] <= now
                        and (self.outage[1] == 0 or now <= self.outage[1] + 5)
                    )
                    if response is not None and response.status_code in (200, 201):
                        self.latencies.append(elapsed)
                        self.ids[key] = response.json()["id"]
                        if (
                            self.outage
                            and self.outage[1]
                            and now >= self.outage[1]
                            and self.first_success_after_outage is None
                        ):
                            self.first_success_after_outage = now
                        return
                    if in_outage:
                        self.outage_errors += 1
                if response is not None and response.status_code < 500 and response.status_code != 429:
                    raise SystemExit(f"report {n}: unexpected {response.status_code} {response.text[:200]}")
                retry_after = response.headers.get("Retry-After") if response is not None else None
                time.sleep(min(float(retry_after), 5) if retry_after else delay)
                delay = min(delay * 2, 2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--outage", type=float, default=10.0)
    parser.add_argument("--big-uploads", type=int, default=16)
    parser.add_argument(
        "--cluster",
        default="main",
        help="the PostgreSQL cluster (pg_lsclusters) that MAPAPP_DATABASE_URL points at, stopped mid-run",
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root: it stops and starts the PostgreSQL cluster (pg_ctlcluster)")
    photos = [p.read_bytes() for p in PHOTOS if p.exists()]
    if not photos:
        raise SystemExit(f"needs the shared photos in {SHARED_DATA / 'photos'}")

    sinks = Sinks()
    with bench_database("mapapp_bench_faults") as url:
        media = Path(f"/tmp/mapapp-bench-faults-media-{os.getpid()}")
        os.environ["MAPAPP_MEDIA_DIR"] = str(media)  # the demo's photos go where the server looks for them
        get_settings.cache_clear()
        with transaction() as session:
            demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=1)
        port = _free_port()
        env = dict(
            os.environ,
            MAPAPP_DATABASE_URL=url,
            MAPAPP_ENVIRONMENT="production",
            MAPAPP_SECRET_KEY="bench-" + "x" * 40,
            MAPAPP_MEDIA_DIR=str(media),
            MAPAPP_SMTP_HOST="127.0.0.1",
            MAPAPP_SMTP_PORT=str(sinks.smtp_port),
            MAPAPP_WEBHOOK_URL=sinks.webhook_url,
            MAPAPP_NOTIFY_RETRY_BASE_SECONDS="1",
            # The clients all come from 127.0.0.1: the limits are for abuse, not for this load.
            MAPAPP_RATELIMIT_ENABLED="false",
        )
        bin_dir = Path(sys.executable).parent
        server = subprocess.Popen(
            [str(bin_dir / "mapapp"), "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(f"/tmp/bench-faults-server-{os.getpid()}.log", "w"),  # noqa: SIM115
        )
        worker = subprocess.Popen(
            [str(bin_dir / "mapapp"), "worker", "--interval", "0.5"],
            env=env,
            stdout=open(f"/tmp/bench-faults-worker-{os.getpid()}.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start within 120 s")
                time.sleep(0.2)
            run = Run(base, args.reports, photos)
            started = time.monotonic()

            def outage() -> None:
                while len(run.ids) < args.reports // 3:
                    time.sleep(0.05)
                with run.lock:
                    run.outage = (time.monotonic(), 0.0)
                _pg("stop", args.cluster)
                time.sleep(args.outage)
                _pg("start", args.cluster)
                with run.lock:
                    run.outage = (run.outage[0], time.monotonic())

            fault = threading.Thread(target=outage, daemon=True)  # a failed run must not wait for it
            fault.start()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(run.submit, range(args.reports)))
            fault.join(timeout=args.outage + 60)
            elapsed = time.monotonic() - started

            # The worker delivers everything, then the invariants.
            engine = create_engine(url)
            deadline = time.monotonic() + 300
            with engine.connect() as conn:
                while time.monotonic() < deadline:
                    pending = conn.execute(text("SELECT count(*) FROM outbox WHERE status <> 'sent'")).scalar_one()
                    conn.rollback()
                    if not pending:
                        break
                    time.sleep(0.5)
                drained_after = time.monotonic() - started - elapsed
                outbox_total = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
                time.sleep(1)  # the last deliveries' answers reach the sinks
                delivered = sum(sinks.emails.values()) + sum(sinks.webhooks.values())
                reports = conn.execute(text("SELECT count(*) FROM reports WHERE channel <> 'demo'")).scalar_one()
                keys = conn.execute(text("SELECT count(*), count(DISTINCT report_id) FROM idempotency_keys")).one()
                photo_rows = conn.execute(text("SELECT count(*) FROM photos")).scalar_one()
                with_photos = conn.execute(text("SELECT count(DISTINCT report_id) FROM photos")).scalar_one()
                referenced = {
                    key for row in conn.execute(text("SELECT display_key, thumb_key FROM photos")) for key in row
                }
            engine.dispose()
            stored = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file() and not p.name.startswith(".")}
            missing = referenced - stored
            orphans = stored - referenced

            # Peak memory under concurrent 60 MP uploads (each a small PNG that decodes to ~240 MB).
            buf = io.BytesIO()
            Image.new("RGBA", (7745, 7745), (10, 20, 30, 255)).save(buf, "PNG")
            big = buf.getvalue()
            rss_before, _ = _rss_mb(server.pid)
            big_statuses: Counter[int] = Counter()

            def upload(i: int) -> None:
                data = {"layer": "facilities", "category": "pothole", "lat": "37.55", "lon": "126.95"}
                r = httpx.post(
                    base + "/api/reports", data=data, files=[("photos", (f"b{i}.png", big, "image/png"))], timeout=300
                )
                big_statuses[r.status_code] += 1

            peak = 0.0
            with ThreadPoolExecutor(args.big_uploads) as pool:
                futures = [pool.submit(upload, i) for i in range(args.big_uploads)]
                while not all(f.done() for f in futures):
                    peak = max(peak, _rss_mb(server.pid)[0])
                    time.sleep(0.05)
            time.sleep(2)
            rss_after, _ = _rss_mb(server.pid)
        finally:
            worker.terminate()
            server.terminate()
            for p in (worker, server):
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
            sinks.close()

    ok = sorted(run.latencies)
    recover = (
        (run.first_success_after_outage - run.outage[1]) if run.outage and run.first_success_after_outage else None
    )
    emails_twice = sum(1 for c in sinks.emails.values() if c > 1)
    hooks_twice = sum(1 for c in sinks.webhooks.values() if c > 1)
    print(
        f"submissions: {args.reports} from {args.clients} clients in {elapsed:.1f} s = "
        f"{args.reports / elapsed:.0f} reports/s"
    )
    print(
        f"  latency of accepted answers: p50 {statistics.median(ok) * 1000:.0f} ms, "
        f"p95 {ok[int(len(ok) * 0.95) - 1] * 1000:.0f} ms"
    )
    print(f"  answers seen: {dict(run.statuses)}")
    print(
        f"  outage {args.outage:.0f} s: {run.outage_errors} failed attempts during it; "
        f"first report accepted {recover:.2f} s after the database started"
        if recover is not None
        else "  outage: no recovery seen"
    )
    print(
        f"invariants: reports {reports} (expected {args.reports}), keys {keys[0]} -> {keys[1]} reports, "
        f"photo rows {photo_rows} on {with_photos} reports, files missing {len(missing)}, "
        f"unreferenced files {len(orphans)}"
    )
    print(
        f"outbox: {outbox_total} messages, {delivered} deliveries received, "
        f"e-mails twice {emails_twice}, webhooks twice {hooks_twice}; "
        f"the outbox was empty {drained_after:.1f} s after the last report was accepted"
    )
    print(
        f"memory, {args.big_uploads} concurrent 60 MP PNG uploads: RSS before {rss_before:.0f} MB, "
        f"peak {peak:.0f} MB, after {rss_after:.0f} MB; answers {dict(big_statuses)}"
    )
    failed = (
        reports != args.reports
        or keys[0] != args.reports
        or keys[1] != args.reports
        or missing
        or emails_twice
        or hooks_twice
        or delivered != outbox_total
    )
    if failed:
        raise SystemExit("an invariant failed (see above)")


if __name__ == "__main__":
    main()
