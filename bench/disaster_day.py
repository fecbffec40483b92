"""Disaster day against `mapapp stack up`: the map read by many, a trickle of reports, the flood layer switched
on, the replica restarted — and the same reads against a single `mapapp serve` on the same data, same run.

    .venv/bin/mapapp stack up --reports 1000000      # ~10 min for the million; prints the proxy's URL
    .venv/bin/python -m bench.disaster_day [--phase 25] [--duration 90] [--concurrency 24]
    .venv/bin/mapapp stack down

Load comes from two client processes (asyncio, `--concurrency` requests in flight each), as the machine
allows. The replay is the map on vector tiles as static/js/map.js asks for it: each simulated citizen opens
the map (the layer list, the city view's z11 tiles), pans to shared viewpoints (district pages, links in the
news: the tiles of a desktop view at z13-14) or anywhere near where people live, zoomed to the street
(z15-16 tiles: on the grid, but thousands of them), opens popular reports, and news sites' widgets read the
flood layer's tiles; other sites read GeoJSON. Phases, interleaved A B A B: reads through nginx (the stack)
and reads straight to one `mapapp serve --workers 1` on the primary (no cache, no replica, no pooler). Then
the disaster-day run on the stack: the same reads plus a report with a photo every `--write-every` seconds,
the flood layer activated at 1/3 and the replica restarted (pg_ctl restart -m fast) at 2/3.
Last, the routing lookup's cost with and without its prepared statement (PgBouncer needs the latter).
"""

import argparse
import asyncio
import contextlib
import gzip
import io
import json
import math
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import load_average
from mapapp.stack import processes
from mapapp.stack.topology import Stack

ADMIN_EMAIL, ADMIN_PASSWORD = "bench-admin@city.example", "bench admin password 2026"
# The shared part of the replay: viewpoints (district pages, links in the news) and popular reports.
VIEWPOINTS = 50
VIEW = (1280, 800)  # a desktop map's view in pixels: the tiles it asks for


@dataclass
class Replay:
    """What the simulated citizens ask for (the same for every phase, drawn from one seed), as the map on
    vector tiles asks for it (static/js/map.js): the tiles of its view, at the view's zoom, on the tile grid."""

    city_tiles: list[str]  # the city view at z11: what opening `/` asks for
    shared_views: list[list[str]]  # the tiles of each shared viewpoint at z13 or z14
    widget_tiles: list[str]  # news sites' widgets of the flood layer: district views at z12
    viewpoints: list[str]  # the same viewpoints as boxes, for GeoJSON readers (other sites, Open311 apps)
    hot_points: list[tuple[float, float]]
    report_ids: list[str]

    def request(self, rnd: random.Random, flood_on: bool) -> tuple[str, str]:
        """(route name, path) of the next request."""
        roll = rnd.random()
        layer = "flood" if flood_on and rnd.random() < 0.5 else "facilities"
        if roll < 0.28:
            return "tile: map open (z11)", rnd.choice(self.city_tiles).replace("{layer}", layer)
        if roll < 0.45:
            return "tile: pan, shared view (z13-14)", rnd.choice(rnd.choice(self.shared_views)).replace(
                "{layer}", layer
            )
        if roll < 0.57:
            # Anywhere near where people live, zoomed to the street: on the grid, but thousands of tiles.
            lon, lat = rnd.choice(self.hot_points)
            lon, lat = lon + rnd.uniform(-0.02, 0.02), lat + rnd.uniform(-0.015, 0.015)
            z = rnd.choice((15, 16))
            x, y = _tile(lon, lat, z)
            return "tile: pan anywhere (z15-16)", f"/tiles/{layer}/{z}/{x}/{y}.mvt"
        if roll < 0.77:
            # Popular reports are read far more often than the rest (Zipf-like: the news links a few).
            index = min(int(rnd.paretovariate(1.2)) - 1, len(self.report_ids) - 1)
            return "report", f"/api/reports/{self.report_ids[index]}"
        if roll < 0.81:
            return "boundaries", "/api/jurisdictions/districts"
        if roll < 0.86:
            return "widget.js", "/widget.js"
        if roll < 0.94:
            return "widget tile (flood, z12)", rnd.choice(self.widget_tiles)
        box = rnd.choice(self.viewpoints)
        return "GeoJSON (other sites' readers)", f"/api/reports?bbox={box}&layer={layer}&limit=1000"


def view_tiles(lon: float, lat: float, z: int, layer: str = "{layer}") -> list[str]:
    """The tile URLs of a desktop view centred on (lon, lat) at zoom z, as map.js computes them."""
    n = 2**z
    cx = (lon + 180) / 360 * n * 256
    cy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n * 256
    x0, x1 = int((cx - VIEW[0] / 2) // 256), int((cx + VIEW[0] / 2) // 256)
    y0, y1 = int((cy - VIEW[1] / 2) // 256), int((cy + VIEW[1] / 2) // 256)
    return [
        f"/tiles/{layer}/{z}/{x}/{y}.mvt"
        for x in range(max(0, x0), min(n - 1, x1) + 1)
        for y in range(max(0, y0), min(n - 1, y1) + 1)
    ]


def build_replay(primary_url: str, seed: int = 7) -> Replay:
    """Viewpoints and reports from the stack's own data (district centres, hot spots, popular reports)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(primary_url)
    with engine.connect() as conn:
        extent = conn.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM (SELECT ST_Extent(geom) e FROM jurisdictions WHERE level = 'district') x"
            )
        ).one()
        centres = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) "
                "FROM (SELECT ST_PointOnSurface(geom) c FROM jurisdictions WHERE level = 'dong' ORDER BY code) x"
            )
        ).all()
        districts = conn.execute(
            text(
                "SELECT ST_X(c), ST_Y(c) "
                "FROM (SELECT ST_PointOnSurface(geom) c FROM jurisdictions WHERE level = 'district' ORDER BY code) x"
            )
        ).all()
        ids = [
            r[0] for r in conn.execute(text("SELECT public_id FROM reports ORDER BY support_count DESC, id LIMIT 300"))
        ]
    engine.dispose()
    rnd = random.Random(seed)
    hot = [(float(x), float(y)) for x, y in centres]
    chosen = rnd.sample(hot, min(VIEWPOINTS, len(hot)))
    viewpoints = [f"{lon - 0.012:.5f},{lat - 0.008:.5f},{lon + 0.012:.5f},{lat + 0.008:.5f}" for lon, lat in chosen]
    shared_views = [view_tiles(lon, lat, rnd.choice((13, 14))) for lon, lat in chosen]
    widget_tiles = sorted({t for x, y in districts for t in view_tiles(float(x), float(y), 12, "flood")})
    city = view_tiles((extent[0] + extent[2]) / 2, (extent[1] + extent[3]) / 2, 11)
    rnd.shuffle(ids)
    return Replay(city, shared_views, widget_tiles, viewpoints, hot, ids)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


# --- the client processes -----------------------------------------------------------------------------


@dataclass
class Sample:
    route: str
    status: int
    seconds: float
    cache: str
    at: float


class RawClient:
    """A minimal HTTP/1.1 keep-alive client (asyncio streams): the load generator shares the two cores with
    the servers, so it must cost as little as possible per request. Asks for gzip, as browsers do."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):  # a keep-alive connection the server closed meanwhile: once more on a new one
            try:
                return await self._get(path)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept-Encoding: gzip\r\n"
            "Accept-Language: ko-KR,ko;q=0.9\r\n\r\n".encode()
        )
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("closed")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while (size := int((await self.reader.readline()).split(b";")[0], 16)) > 0:
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


MAP_REFRESH_SECONDS = 15  # MAPAPP_MAP_REFRESH_SECONDS: how often an open map asks which layers are on


async def _citizen(
    base: str,
    replay: Replay,
    rnd: random.Random,
    until: float,
    out: list[Sample],
    seen: dict[int, float],
    me: int,
) -> None:
    """One citizen's open map: requests one after another, and the layer list every MAP_REFRESH_SECONDS, as
    static/js/map.js does; `seen` gets the time it first saw the flood layer on."""
    client = RawClient(base)
    flood_on = False
    next_poll = time.time() + rnd.uniform(0, MAP_REFRESH_SECONDS)
    while time.time() < until:
        if time.time() >= next_poll:
            route, path = "layers", "/api/layers"
            next_poll += MAP_REFRESH_SECONDS
        else:
            route, path = replay.request(rnd, flood_on)
        started = time.perf_counter()
        try:
            status, headers, body = await client.get(path)
            cache = headers.get("x-cache", "-")
            if route == "layers" and status == 200 and not flood_on:
                if headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                layers = {layer["slug"]: layer["state"] for layer in json.loads(body)["layers"]}
                if layers.get("flood") == "active":
                    flood_on = True
                    seen[me] = time.time()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, cache = 0, "-"
        out.append(Sample(route, status, time.perf_counter() - started, cache, time.time()))
    await client.close()


async def _client_process(
    base: str, replay: Replay, seconds: float, concurrency: int, seed: int
) -> tuple[list[Sample], dict[int, float]]:
    out: list[Sample] = []
    seen: dict[int, float] = {}
    until = time.time() + seconds
    await asyncio.gather(
        *(
            _citizen(base, replay, random.Random(seed * 1000 + i), until, out, seen, seed * 1000 + i)
            for i in range(concurrency)
        )
    )
    return out, seen


def _run_client(args: tuple[str, Replay, float, int, int]) -> tuple[list[Sample], dict[int, float]]:
    return asyncio.run(_client_process(*args))


# --- phases -------------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    seen: dict[int, float] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)

    def reads(self) -> list[Sample]:
        return [s for s in self.samples if s.route != "submit"]

    def throughput(self) -> float:
        return len(self.reads()) / self.seconds

    def errors(self) -> Counter[str]:
        return Counter(f"{s.route}: {s.status}" for s in self.samples if s.status == 0 or s.status >= 500)


def run_phase(name: str, base: str, replay: Replay, seconds: float, concurrency: int, seed: int) -> Phase:
    with multiprocessing.get_context("fork").Pool(2) as pool:
        parts = pool.map(_run_client, [(base, replay, seconds, concurrency, seed * 10 + i) for i in range(2)])
    phase = Phase(name, seconds)
    for samples, seen in parts:
        phase.samples += samples
        phase.seen |= seen
    return phase


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000  # noqa: E731
    return pick(0.50), pick(0.95), pick(0.99)


def warm_up(base: str, replay: Replay, concurrency: int = 6) -> tuple[int, float]:
    """The first citizens of the day: every shared URL of the replay asked once (what a city's traffic does in
    its first minute; two client processes would take the whole phase to do it)."""
    paths = ["/api/layers", "/widget.js", "/api/jurisdictions/districts"]
    paths += [t.replace("{layer}", "facilities") for t in replay.city_tiles]
    paths += sorted({t.replace("{layer}", "facilities") for view in replay.shared_views for t in view})
    paths += [f"/api/reports?bbox={v}&layer=facilities&limit=1000" for v in replay.viewpoints]
    paths += [f"/api/reports/{i}" for i in replay.report_ids]

    async def fetch_all() -> None:
        queue = list(paths)

        async def worker() -> None:
            client = RawClient(base)  # the very headers of the replay: the same cached variants
            while queue:
                await client.get(queue.pop())
            await client.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    started = time.time()
    asyncio.run(fetch_all())
    return len(paths), time.time() - started


# --- the disaster day's events ------------------------------------------------------------------------


def admin_token(stack: Stack) -> str:
    env = os.environ | stack.app_env | {"MAPAPP_DATABASE_URL": stack.primary_url}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mapapp.cli",
            "users",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--name",
            "bench",
            "--role",
            "admin",
            "--password-stdin",
        ],
        input=ADMIN_PASSWORD + "\n",
        text=True,
        env=env,
        capture_output=True,
        check=False,
    )  # already there from an earlier run: fine
    login = httpx.post(
        f"{stack.proxy_url}/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=120
    )
    login.raise_for_status()
    return str(login.json()["token"])


def set_flood(stack: Stack, token: str, on: bool) -> None:
    action = "activate" if on else "deactivate"
    body = (
        {"banner_ko": "호우 경보: 침수 위험 지역을 알려주세요", "banner_en": "Heavy rain: report flooding"}
        if on
        else None
    )
    answer = httpx.post(
        f"{stack.proxy_url}/api/layers/flood/{action}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    if answer.status_code not in (200, 409):
        raise RuntimeError(f"flood {action}: {answer.status_code} {answer.text}")


def photo_bytes(i: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (1600, 1200), (40 + i % 200, 90, 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def write_trickle(stack: Stack, replay: Replay, until: float, every: float, out: list[Sample]) -> None:
    rnd = random.Random(99)
    i = 0
    with httpx.Client(base_url=stack.proxy_url, timeout=60) as client:
        while time.time() < until:
            i += 1
            lon, lat = rnd.choice(replay.hot_points)
            started = time.perf_counter()
            try:
                answer = client.post(
                    "/api/reports",
                    data={
                        "layer": "facilities",
                        "category": "drain-blocked" if i % 2 else "pothole",
                        "lat": str(lat),
                        "lon": str(lon),
                        "description": f"bench {i}",
                    },
                    files=[("photos", (f"p{i}.jpg", photo_bytes(i), "image/jpeg"))],
                    headers={"X-Forwarded-For": f"198.51.{i // 250 % 250}.{i % 250 + 1}"},
                )
                status = answer.status_code
            except httpx.HTTPError:
                status = 0
            out.append(Sample("submit", status, time.perf_counter() - started, "-", time.time()))
            time.sleep(max(0.0, every - (time.perf_counter() - started)))


def sample_lag(stack: Stack, until: float, out: list[tuple[float, float | None, str]]) -> None:
    while time.time() < until:
        try:
            replica = httpx.get(f"{stack.app_url(0)}/readyz", timeout=5).json().get("replica") or {}
            out.append((time.time(), replica.get("lag_seconds"), replica.get("status", "?")))
        except (httpx.HTTPError, ValueError):
            out.append((time.time(), None, "no answer"))
        time.sleep(0.5)


def disaster_run(stack: Stack, replay: Replay, seconds: float, concurrency: int, write_every: float) -> Phase:
    token = admin_token(stack)
    set_flood(stack, token, on=False)
    time.sleep(6)  # every cached copy of the layer list is past its max-age
    writes: list[Sample] = []
    lag: list[tuple[float, float | None, str]] = []
    events: dict[str, Any] = {}
    started = time.time()
    until = started + seconds
    events["started_at"] = started

    def timeline() -> None:
        time.sleep(seconds / 3)
        events["activated_at"] = time.time()
        set_flood(stack, token, on=True)
        time.sleep(seconds / 3)
        events["replica_restart_started"] = time.time()
        stack.cluster("replica").restart("fast")
        events["replica_restart_ended"] = time.time()

    threads = [
        threading.Thread(target=timeline),
        threading.Thread(target=write_trickle, args=(stack, replay, until, write_every, writes)),
        threading.Thread(target=sample_lag, args=(stack, until, lag)),
    ]
    for t in threads:
        t.start()
    phase = run_phase("stack: disaster day", stack.proxy_url, replay, seconds, concurrency, seed=5)
    for t in threads:
        t.join()
    phase.samples += writes
    phase.events = events | {"lag": lag}
    return phase


# --- the baseline: one process, no cache, no replica, no pooler ------------------------------------


class SingleServe:
    def __init__(self, stack: Stack) -> None:
        self.port = next(p for p in range(stack.ports["nginx"] + 10, 18900) if processes.port_is_free(p))
        env = {
            k: v for k, v in stack.app_env.items() if k not in ("MAPAPP_READ_DATABASE_URL", "MAPAPP_DATABASE_POOLER")
        }
        env["MAPAPP_DATABASE_URL"] = stack.primary_url
        self.process = processes.start_app(self.port, env, Path(stack.folder) / "single.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        processes.stop(self.process)


# --- the routing lookup with and without its prepared statement ---------------------------------------


def routing_cost(stack: Stack, lookups: int) -> dict[str, tuple[float, float]]:
    """route() on the primary directly (prepared, plain) and through PgBouncer (plain), interleaved A B C."""
    from mapapp import routing
    from mapapp.core import db as core_db
    from mapapp.core.settings import get_settings

    bouncer = stack.app_env["MAPAPP_DATABASE_URL"]
    rnd = random.Random(3)
    points = rnd.choices(stack_points(stack), k=lookups)  # one inside each dong, drawn at random
    sides = {
        "prepared, direct": (stack.primary_url, "none"),
        "plain, direct": (stack.primary_url, "pgbouncer-transaction"),
        "plain, through PgBouncer": (bouncer, "pgbouncer-transaction"),
    }
    times: dict[str, list[float]] = defaultdict(list)
    for chunk in range(0, lookups, 100):
        for name, (url, pooler) in sides.items():
            os.environ.update({"MAPAPP_DATABASE_URL": url, "MAPAPP_DATABASE_POOLER": pooler})
            get_settings.cache_clear()
            for lon, lat in points[chunk : chunk + 100]:
                started = time.perf_counter()
                with core_db.transaction() as session:
                    routing.route(session, lon=lon, lat=lat, category="pothole")
                times[name].append(time.perf_counter() - started)
    return {name: (statistics.median(v) * 1000, sorted(v)[int(len(v) * 0.95)] * 1000) for name, v in times.items()}


def stack_points(stack: Stack) -> list[tuple[float, float]]:
    return build_replay(stack.primary_url).hot_points


# --- the report ---------------------------------------------------------------------------------------


def describe(phase: Phase) -> list[str]:
    lines = [f"**{phase.name}** ({phase.seconds:.0f} s): {phase.throughput():.0f} reads/s"]
    caches = Counter(s.cache for s in phase.reads())
    cached = sum(caches[c] for c in ("HIT", "STALE", "UPDATING", "REVALIDATED"))
    if sum(caches.values()) and any(c != "-" for c in caches):
        lines[0] += f", cache hit ratio {cached / max(1, len(phase.reads())):.1%} ({dict(caches)})"
    errors = phase.errors()
    lines[0] += f", failed requests: {sum(errors.values())}" + (f" ({dict(errors)})" if errors else "")
    lines += [
        "",
        "| route | requests | per s | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for s in phase.samples:
        by_route[s.route].append(s)
    for route in sorted(by_route):
        samples = by_route[route]
        p50, p95, p99 = percentiles([s.seconds for s in samples])
        bad = sum(1 for s in samples if s.status == 0 or s.status >= 500)
        lines.append(
            f"| {route} | {len(samples)} | {len(samples) / phase.seconds:.1f} "
            f"| {p50:.1f} | {p95:.1f} | {p99:.1f} | {bad} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", help="the stack's folder (default: the one `mapapp stack up` started last)")
    parser.add_argument("--phase", type=float, default=25, help="seconds of each A/B read phase")
    parser.add_argument("--duration", type=float, default=90, help="seconds of the disaster-day run")
    parser.add_argument("--concurrency", type=int, default=24, help="requests in flight per client process")
    parser.add_argument("--write-every", type=float, default=2.0, help="seconds between two submissions")
    parser.add_argument("--lookups", type=int, default=1500, help="routing lookups per side")
    parser.add_argument("--reads-only", action="store_true", help="only the A B A B read phases")
    args = parser.parse_args()

    stack = Stack.load(args.folder)
    from sqlalchemy import create_engine, text

    engine = create_engine(stack.primary_url)
    with engine.connect() as conn:
        reports = conn.execute(text("SELECT count(*) FROM reports")).scalar_one()
    engine.dispose()
    replay = build_replay(stack.primary_url)
    print(f"stack {stack.folder}: {reports} reports; load average before: {load_average()}", flush=True)

    urls, seconds = warm_up(stack.proxy_url, replay)
    print(f"cache warmed: {urls} shared URLs in {seconds:.0f} s", flush=True)
    single = SingleServe(stack)
    phases: list[Phase] = []
    try:
        for round_ in range(2):  # A B A B
            for name, base in (("stack: reads through nginx", stack.proxy_url), ("single mapapp serve", single.url)):
                phase = run_phase(
                    f"{name} (round {round_ + 1})", base, replay, args.phase, args.concurrency, seed=round_ + 1
                )
                print("\n".join(describe(phase)), flush=True)
                phases.append(phase)
    finally:
        single.stop()
    if args.reads_only:
        rates = [(p.name, round(p.throughput(), 1)) for p in phases]
        print(f"load average after: {load_average()}; reads/s: {rates}")
        return
    disaster = disaster_run(stack, replay, args.duration, args.concurrency, args.write_every)
    print("\n".join(describe(disaster)), flush=True)
    routing = routing_cost(stack, args.lookups)

    out_warm = f"cache warmed before the phases: {urls} shared URLs in {seconds:.0f} s"
    stack_rates = [p.throughput() for p in phases if p.name.startswith("stack")]
    single_rates = [p.throughput() for p in phases if p.name.startswith("single")]
    out = [
        f"{reports} reports; 2 client processes × {args.concurrency} in flight; "
        f"load average after: {load_average()}; {out_warm}",
        "",
        f"Reads per second, A B A B: stack {', '.join(f'{r:.0f}' for r in stack_rates)}; single process "
        f"{', '.join(f'{r:.0f}' for r in single_rates)} → "
        f"{statistics.mean(stack_rates) / statistics.mean(single_rates):.1f}×",
        "",
    ]
    for phase in [*phases, disaster]:
        out += [*describe(phase), ""]
    events = disaster.events
    activated = events["activated_at"]
    seen = [t - activated for t in disaster.seen.values()]
    clients = 2 * args.concurrency
    out.append(
        f"Flood layer activated {activated - events['started_at']:.0f} s into the run: "
        f"seen by {len(seen)} of {clients} simulated clients; "
        + (
            f"median {statistics.median(seen):.1f} s, last {max(seen):.1f} s after the activation"
            if seen
            else "by none"
        )
    )
    restart = (events["replica_restart_started"], events["replica_restart_ended"])
    during = [s for s in disaster.samples if restart[0] - 1 <= s.at <= restart[1] + 5]
    failed = [s for s in during if s.status == 0 or s.status >= 500]
    out.append(
        f"Replica restart took {restart[1] - restart[0]:.1f} s: "
        f"{len(during)} requests from 1 s before to 5 s after it, "
        f"{len(failed)} failed"
    )
    lags = [lag for _, lag, _ in events["lag"] if lag is not None]
    states = Counter(state for _, _, state in events["lag"])
    out.append(
        f"Replica lag (/readyz every 0.5 s): median {statistics.median(lags) if lags else float('nan'):.3f} s, "
        f"max {max(lags) if lags else float('nan'):.3f} s; states {dict(states)}"
    )
    out += ["", "Routing lookup (ms, median / p95, interleaved):"]
    out += [f"- {name}: {p50:.2f} / {p95:.2f}" for name, (p50, p95) in routing.items()]
    print("\n".join(out))
    Path(stack.folder, "disaster_day.md").write_text("\n".join(out), encoding="utf-8")
    print(json.dumps({"stack_reads_per_s": stack_rates, "single_reads_per_s": single_rates}))


if __name__ == "__main__":
    main()
