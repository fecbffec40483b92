"""The public map in a browser: time from opening `/` to every report represented at city zoom, at several
table sizes, in Debian's Chromium (Playwright), against the request the map used to make.

    .venv/bin/python -m bench.map_browser [--reports 10000,100000,1000000] [--database 1000000=NAME] [--repeat 3]

For each size, a database with that many generated reports (`bench_map_<n>`, or the one named with
--database; BENCH_REUSE=1 and BENCH_KEEP=1 as for every bench), served by `mapapp serve` with its defaults and no
base-map tiles (no internet here). Each run is a fresh browser context (an empty HTTP cache), 1280 x 900, at the
city zoom the page opens with; then, in the same page, a zoom to z15 over the densest place and four pans there,
timed to every tile drawn, with the main thread's long tasks counted. "Represented" is the map's own tally
(window.mapapp.complete() and
state.groups.facilities.represented: the clusters' counts plus the points drawn or hidden), checked against a
count in SQL of the reports the facilities layer shows inside the tiles' box.

The baseline, in the same page right after (A B A B): the map's old request, the newest 5,000 reports of the
same box as GeoJSON (`/api/reports?bbox=...&layer=facilities&limit=5000`), fetched and parsed; it is what the
map did before, and it showed at most 5,000 of them.
"""

import argparse
import os
import shutil
import statistics

from sqlalchemy import text

from bench.common import bench_database, generated_city, load_average, serving
from mapapp.core.db import transaction
from mapapp.reports import filters

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

# Polls from the first script on: when the map says every tile of the view is in, note the time since navigation.
READY_PROBE = """
(() => {
  const poll = () => {
    const m = window.mapapp;
    const g = m && m.state.groups.facilities;
    if (g && g.represented && m.complete()) { window.__mapReadyMs = performance.now(); return; }
    setTimeout(poll, 10);
  };
  poll();
})();
"""

TILES_BOX = """() => {
  const g = window.mapapp.state.groups.facilities, keys = [...g.tiles.keys()].map((k) => k.split("/").map(Number));
  const z = keys[0][0], n = 2 ** z, lon = (x) => x / n * 360 - 180;
  const lat = (y) => Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI;
  const xs = keys.map((k) => k[1]), ys = keys.map((k) => k[2]);
  return { z, tiles: keys.length, represented: g.represented,
           box: [lon(Math.min(...xs)), lat(Math.max(...ys) + 1), lon(Math.max(...xs) + 1), lat(Math.min(...ys))],
           view: window.mapappMap.getBounds().toBBoxString() };
}"""

# Where the time went: the page itself (HTML, Leaflet, our scripts: DOMContentLoaded), and the tiles (from the
# first tile asked to the last one in, and their bytes).
PHASES = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const tiles = performance.getEntriesByType("resource").filter((e) => e.name.includes("/tiles/"));
  const first = Math.min(...tiles.map((e) => e.startTime)), last = Math.max(...tiles.map((e) => e.responseEnd));
  return { dcl_ms: nav.domContentLoadedEventEnd, tiles_ms: last - first, tiles_first_ms: first,
           tile_bytes: tiles.reduce((n, e) => n + (e.encodedBodySize || 0), 0) };
}"""

OLD_REQUEST = """async (bbox) => {
  const t0 = performance.now();
  const res = await fetch(`/api/reports?bbox=${bbox}&layer=facilities&limit=5000`, { cache: "no-store" });
  const data = await res.json();
  return { ms: performance.now() - t0, features: data.features.length, bytes: JSON.stringify(data).length };
}"""


# At street zoom over the densest place: the time from a move to every tile of the view in and drawn, the points
# drawn, and the main thread's long tasks (over 50 ms: a frame the user sees stutter) while it happens.
STREET_PANS = """async ([lat, lon]) => {
  const longTasks = [];
  const observer = new PerformanceObserver((list) => list.getEntries().forEach((e) => longTasks.push(e.duration)));
  observer.observe({ type: "longtask" });
  const settled = () => new Promise((resolve) => {
    const poll = () => (window.mapapp.complete() ? resolve() : setTimeout(poll, 10));
    setTimeout(poll, 0);
  });
  const times = [];
  let t0 = performance.now();
  window.mapappMap.setView([lat, lon], 15, { animate: false });
  await settled();
  times.push(performance.now() - t0);
  for (const [dx, dy] of [[300, 0], [0, 300], [-300, 0], [0, -300]]) {
    t0 = performance.now();
    window.mapappMap.panBy([dx, dy], { animate: false });
    await settled();
    times.push(performance.now() - t0);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  const r = window.mapapp.state.groups.facilities.represented;
  return { times, points: r.points + r.hidden, longest_task: Math.max(0, ...longTasks), long_tasks: longTasks.length };
}"""


def densest_place() -> tuple[float, float]:
    """The centre (lat, lon) of the z15-sized cell holding the most reports of the facilities layer."""
    sql = """SELECT ST_Y(p), ST_X(p) FROM (
               SELECT ST_Transform(
                          ST_SetSRID(ST_MakePoint(sum(c.sum_x) / sum(c.n), sum(c.sum_y) / sum(c.n)), 3857), 4326) p
               FROM tile_cells c JOIN layers l ON l.id = c.layer_id
               WHERE c.level = 15 AND l.slug = 'facilities' GROUP BY c.x, c.y ORDER BY sum(c.n) DESC LIMIT 1) d"""
    with transaction() as session:
        lat, lon = session.execute(text(sql)).one()
    return float(lat), float(lon)


def shown_in_box(box: list[float]) -> int:
    """Reports the facilities layer shows inside the box, counted in SQL with the API's own filters."""
    where = filters.Where()
    filters.bbox(where, (box[0], box[1], box[2], box[3]))
    filters.shown_on_layer(where, "facilities")
    sql = f"""SELECT count(*) FROM reports r JOIN categories c ON c.id = r.category_id
              JOIN layers l ON l.id = r.layer_id WHERE {where.sql()}"""  # noqa: S608 - fixed clauses, bound values
    with transaction() as session:
        return int(session.scalar(text(sql), where.params) or 0)


def measure(browser: object, base: str, repeat: int) -> list[dict[str, object]]:
    """`repeat` cold opens of the map, each followed by the old GeoJSON request of the same box, then a zoom to
    the street over the densest place and four pans there."""
    runs = []
    street = densest_place()
    for _ in range(repeat):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")  # type: ignore[attr-defined]
        page = context.new_page()
        page.add_init_script(READY_PROBE)
        page.goto(base + "/")
        page.wait_for_function("() => window.__mapReadyMs !== undefined", timeout=120_000)
        ready = page.evaluate("() => window.__mapReadyMs")
        phases = page.evaluate(PHASES)
        info = page.evaluate(TILES_BOX)
        view = info["view"]
        old = page.evaluate(OLD_REQUEST, view)
        # The same view again in the same context: the browser revalidates or reuses its tiles (ETag, max-age).
        page.reload()
        page.wait_for_function("() => window.__mapReadyMs !== undefined", timeout=120_000)
        again = page.evaluate("() => window.__mapReadyMs")
        pans = page.evaluate(STREET_PANS, list(street))
        runs.append({"ready_ms": ready, "reload_ms": again, "old": old, "street": pans, **phases, **info})
        context.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", default="10000,100000,1000000")
    parser.add_argument("--database", action="append", default=[], help="N=NAME: use database NAME for size N")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    named = dict(item.split("=", 1) for item in args.database)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    os.environ["MAPAPP_TILE_URL"] = ""  # no base map: nothing from the internet, only our own work is timed
    rows: list[str] = []
    street_rows: list[str] = []
    for size in (int(n) for n in args.reports.split(",")):
        if size_name := named.get(str(size)):
            os.environ["BENCH_DATABASE"] = size_name
        else:
            os.environ.pop("BENCH_DATABASE", None)
        with bench_database(f"bench_map_{size}") as url:
            print(generated_city(size), flush=True)
            with transaction() as session:
                count = int(session.scalar(text("SELECT count(*) FROM reports")) or 0)
            print(f"{count:,} reports; load average {load_average()}", flush=True)
            with serving(url) as port, sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
                runs = measure(browser, f"http://127.0.0.1:{port}", args.repeat)
                browser.close()
            expected = shown_in_box(runs[0]["box"])  # type: ignore[arg-type]
            for run in runs:
                total = run["represented"]["total"]  # type: ignore[index]
                assert total == expected, f"the map represents {total} reports, SQL counts {expected}"
            ready = statistics.median(float(r["ready_ms"]) for r in runs)  # type: ignore[arg-type]
            reload = statistics.median(float(r["reload_ms"]) for r in runs)  # type: ignore[arg-type]
            old_ms = statistics.median(float(r["old"]["ms"]) for r in runs)  # type: ignore[index]
            dcl = statistics.median(float(r["dcl_ms"]) for r in runs)  # type: ignore[arg-type]
            span = statistics.median(float(r["tiles_ms"]) for r in runs)  # type: ignore[arg-type]
            first = runs[0]
            each = ", ".join(f"{float(r['ready_ms']):.0f}" for r in runs)  # type: ignore[arg-type]
            rows.append(
                f"| {count:,} | z{first['z']}, {first['tiles']} tiles | {expected:,} | "
                f"{each} ms (median {ready:.0f}) | {dcl:.0f} ms | {span:.0f} ms, "
                f"{float(first['tile_bytes']) / 1e3:.0f} kB | {reload:.0f} ms | "  # type: ignore[arg-type]
                f"{old_ms:.0f} ms for {first['old']['features']:,} of {expected:,} "  # type: ignore[index]
                f"({first['old']['bytes'] / 1e6:.1f} MB) |"  # type: ignore[index]
            )
            print(rows[-1], flush=True)
            for run in runs:
                pans = run["street"]
                moves = ", ".join(f"{t:.0f}" for t in pans["times"])  # type: ignore[index]
                street_rows.append(
                    f"| {count:,} | {pans['points']:,} | {moves} ms | "  # type: ignore[index]
                    f"{pans['long_tasks']} (longest {pans['longest_task']:.0f} ms) |"  # type: ignore[index]
                )
                print(street_rows[-1], flush=True)
    print(
        "\n| reports | city view | represented (= SQL count) | open to all represented, cold | of which the page "
        "(DOMContentLoaded) | the tiles, first asked to last in | reload | the old map's GeoJSON request |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        "\n| reports | points in the street view (z15, densest place) | zoom there, then four 300 px pans: "
        "move to all drawn (includes the map's 150 ms wait after a move) | long tasks (> 50 ms) |"
    )
    print("|---|---|---|---|")
    print("\n".join(street_rows))
    print(f"load average after: {load_average()}")


if __name__ == "__main__":
    main()
