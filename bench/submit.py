"""Report submission benchmark: POST /api/reports (JSON, no photo) against pgbench doing the routed INSERT.

    .venv/bin/python -m bench.submit [--reports 1000000] [--seconds 15] [--connections 16] [--rounds 3]

Needs `wrk` and `pgbench` (Debian: apt-get install wrk postgresql-contrib). Makes and drops its own
database with the demo city and `--reports` generated reports, vacuumed and analyzed. The baseline is
`pgbench -M prepared` (the statement planned once per connection, as our routing statement is); ours is
`mapapp serve` with its default workers (one per core) and, for comparison, with one. The three run
interleaved, round after round; wrk and the server share the machine, as pgbench and PostgreSQL do.
"""

import argparse
import os
import re
import shutil
import subprocess
import tempfile

from sqlalchemy.engine import make_url

from bench.common import bench_database, generated_city, load_average, serving, wrk
from mapapp.cli import default_workers

BOX = (126.88, 37.50, 127.08, 37.60)  # inside the demo city's outline

PGBENCH_SCRIPT = f"""
\\set lon {BOX[0]} + random(0, 200000) / 1000000.0
\\set lat {BOX[1]} + random(0, 100000) / 1000000.0
INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale,
                     location_source, office_id, city_id, district_id, routing_rule, routing_manual, support_count)
SELECT substr(md5(random()::text), 1, 12), c.layer_id, c.id, x.pt, 'bench', 'routed', 'api', 'ko', 'pin',
       o.id, j.parent_id, p.jurisdiction_id, '', false, 0
FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS pt) x
JOIN categories c ON c.slug = 'streetlight-out'
JOIN jurisdiction_parts p ON p.level = 'district' AND ST_Intersects(p.geom, x.pt)
JOIN jurisdictions j ON j.id = p.jurisdiction_id
LEFT JOIN offices o ON o.jurisdiction_id = p.jurisdiction_id AND o.department = c.department;
"""  # noqa: S608 - a pgbench script; the only interpolation is the fixed box

WRK_SCRIPT = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
math.randomseed(os.time())
request = function()
  local lon = {BOX[0]} + math.random() * {BOX[2] - BOX[0]:.2f}
  local lat = {BOX[1]} + math.random() * {BOX[3] - BOX[1]:.2f}
  local body = string.format('{{"layer":"facilities","category":"streetlight-out","lat":%.6f,"lon":%.6f,' ..
                             '"description":"bench"}}', lat, lon)
  return wrk.format(nil, "/api/reports", nil, body)
end
"""


def pgbench_tps(url: str, seconds: int, clients: int) -> float:
    u = make_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(PGBENCH_SCRIPT)
    host = u.query.get("host") or u.host or "127.0.0.1"
    user = u.username or os.environ.get("USER", "postgres")
    cmd = [
        "pgbench",
        "-n",
        "-M",
        "prepared",
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-f",
        f.name,
        "-h",
        str(host),
        "-p",
        str(u.port or 5432),
        "-U",
        user,
        str(u.database),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def wrk_rps(port: int, seconds: int, connections: int) -> tuple[float, str]:
    rps, summary, _ = wrk(port, WRK_SCRIPT, seconds, connections)
    return rps, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for tool in ("wrk", "pgbench"):
        if not shutil.which(tool):
            raise SystemExit(f"needs {tool} (Debian: apt-get install wrk postgresql-contrib)")
    with bench_database("mapapp_bench_submit") as url:
        print(generated_city(args.reports))
        print(f"load average before: {load_average()}")
        results: dict[str, list[float]] = {"pgbench": [], "default": [], "one": []}
        details: dict[str, str] = {}
        with serving(url) as default_port, serving(url, workers=1) as one_port:
            for port in (default_port, one_port):
                wrk_rps(port, 3, args.connections)  # warm up
            for _ in range(args.rounds):
                results["pgbench"].append(pgbench_tps(url, args.seconds, 4))
                for name, port in (("default", default_port), ("one", one_port)):
                    rps, details[name] = wrk_rps(port, args.seconds, args.connections)
                    results[name].append(rps)
        print(f"load average after: {load_average()}")
    base = results["pgbench"]
    print("pgbench -M prepared -c4 -j2, the same routed INSERT: " + ", ".join(f"{v:.0f}" for v in base) + " TPS")
    for name, label in (("default", f"{default_workers()} workers (the default)"), ("one", "1 worker")):
        ratios = ", ".join(f"{r / b:.2f}x" for r, b in zip(results[name], base, strict=True))
        print(
            f"POST /api/reports, {label}: " + ", ".join(f"{v:.0f}" for v in results[name]) + " reports/s"
            f"  ({ratios} pgbench, round by round; last {details[name]})"
        )


if __name__ == "__main__":
    main()
