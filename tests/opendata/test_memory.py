"""An export of hundreds of thousands of reports streams through a real server process in flat memory.

The server's peak RSS (VmHWM) is measured while a client downloads the whole CSV and the whole GeoJSON;
a server that built the answer in memory would hold the whole body (here well over 100 MB) at once.
"""

import os
import time

import httpx
from sqlalchemy import create_engine, text

from tests.photos.server import server_process

# 300,000 in the suite; MAPAPP_TEST_EXPORT_ROWS=1000000 for the figure in docs/benchmarks.md.
ROWS = int(os.environ.get("MAPAPP_TEST_EXPORT_ROWS", "300000"))
FLAT_MIB = 60


def add_reports(url: str, count: int) -> None:
    """`count` plain reports in Mapo-gu, written in one statement (the generator would take minutes)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO reports (public_id, layer_id, category_id, geom, description, status, channel, locale,
                                     location_source, location_precision, district_id, office_id, support_count,
                                     routing_rule, routing_manual,
                                     created_at, updated_at)
                SELECT 'MEM' || lpad(g::text, 9, '0'), c.layer_id, c.id,
                       ST_SetSRID(ST_MakePoint(126.90 + (g % 1000) * 0.00002, 37.55 + (g % 997) * 0.00002), 4326),
                       CASE WHEN g % 7 = 0 THEN '=1+1 formula-looking text ' ELSE 'a pothole by the crossing ' END
                         || repeat('x', 60), 'routed', 'demo', 'ko', 'pin', 'point', d.id, o.id, g % 5, '', false,
                       now() - make_interval(secs => g), now()
                FROM generate_series(1, :n) g,
                     (SELECT id, layer_id FROM categories WHERE slug = 'pothole') c,
                     (SELECT id FROM jurisdictions WHERE code = '11440') d,
                     (SELECT id FROM offices ORDER BY id LIMIT 1) o
                """
            ),
            {"n": count},
        )
    engine.dispose()


def download(url: str) -> tuple[int, int]:
    """Bytes and lines of the whole answer, read in chunks and dropped (a client that keeps nothing)."""
    size = lines = 0
    with httpx.stream("GET", url, timeout=600) as response:
        assert response.status_code == 200, response.read()
        for chunk in response.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines


def test_whole_exports_stream_in_flat_memory(demo_db):
    add_reports(demo_db, ROWS)
    with server_process(demo_db) as server:
        download(f"{server.url}/api/opendata/reports.csv?district=11440&since=2100-01-01T00:00:00Z")  # warm up
        time.sleep(0.5)
        for path, least_mb in (("reports.csv", 40), ("reports.geojson", 150)):
            baseline = server.memory_mb()["VmRSS"]
            server.reset_peak()
            started = time.monotonic()
            size, lines = download(f"{server.url}/api/opendata/{path}")
            peak = server.memory_mb()["VmHWM"]
            seconds = time.monotonic() - started
            print(
                f"\n{path}: {size / 1e6:.0f} MB, {lines} lines in {seconds:.1f} s; "
                f"RSS {baseline:.0f} MiB, peak {peak:.0f} MiB"
            )
            assert lines > ROWS and size > least_mb * 1e6
            assert peak - baseline < FLAT_MIB, (
                f"peak {peak:.0f} MiB over a {baseline:.0f} MiB baseline for {size} bytes"
            )
