"""Vector tiles over the demo city: real PostGIS, real HTTP, tiles decoded with mapbox-vector-tile."""

import asyncio
import math
import time
from collections.abc import Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import mapbox_vector_tile
import psycopg2
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from mapapp.core import caching
from mapapp.core import status as report_status
from mapapp.core.db import get_engine, transaction
from mapapp.core.settings import get_settings
from mapapp.tiles import service
from mapapp.tiles.edge import HotTiles
from mapapp.tiles.models import LEVELS

HALF = service.HALF
PUBLIC_POINT_FIELDS = {"id", "category", "status", "status_group", "age_days", "updated_days", "supporters"}
CLUSTER_FIELDS = {"count", *report_status.GROUPS}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    phi = math.radians(lat)
    y = int((1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * n)
    return x, y


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """west, south, east, north of a tile in WGS84."""
    n = 2**z

    def lat(yy: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * yy / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def city_tiles(client: Any, z: int) -> Iterator[tuple[int, int]]:
    """Every tile at zoom z over the city's bounds (from the TileJSON)."""
    west, south, east, north = client.get("/tiles/facilities.json").json()["bounds"]
    x0, y0 = tile_of(west, north, z)
    x1, y1 = tile_of(east, south, z)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            yield x, y


def decode(body: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(body) if body else {}


def features(client: Any, layer: str, z: int, x: int, y: int, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == service.MVT_MEDIA_TYPE
    layers = decode(response.content)
    return [f for layer_doc in layers.values() for f in layer_doc["features"]]


def cluster_totals(client: Any, layer: str, z: int, **params: Any) -> dict[str, int]:
    """Sums of `count` and of each group's count over every tile of the city at zoom z."""
    totals = dict.fromkeys(CLUSTER_FIELDS, 0)
    for x, y in city_tiles(client, z):
        for feature in features(client, layer, z, x, y, **params):
            props = feature["properties"]
            assert set(props) == CLUSTER_FIELDS
            assert props["count"] > 0 and props["count"] == sum(props[g] for g in report_status.GROUPS)
            for key in CLUSTER_FIELDS:
                totals[key] += props[key]
    return totals


def geojson(client: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/reports", params={"limit": 10000, **params})
    assert response.status_code == 200, response.text
    return response.json()["features"]


def expected_totals(client: Any, **params: Any) -> dict[str, int]:
    """What GET /api/reports says the same filters match, per public group."""
    found = geojson(client, **params)
    totals = dict.fromkeys(CLUSTER_FIELDS, 0)
    totals["count"] = len(found)
    for f in found:
        totals[f["properties"]["status_group"]] += 1
    return totals


def cells_drift() -> list[Any]:
    """Cells whose stored counts differ from a recount of the reports (empty when the triggers kept up)."""
    cell = f"({2 * HALF} / 2 ^ lv.level)"
    recount = f"""
        SELECT lv.level, LEAST(GREATEST(floor((ST_X(m) + {HALF}) / {cell}), 0), 2 ^ lv.level - 1)::int x,
               LEAST(GREATEST(floor(({HALF} - ST_Y(m)) / {cell}), 0), 2 ^ lv.level - 1)::int y,
               layer_id, category_id, status, count(*)::int n
        FROM (SELECT *, ST_Transform(geom, 3857) m FROM reports) r
        CROSS JOIN (VALUES {", ".join(f"({lv})" for lv in LEVELS)}) lv(level)
        GROUP BY 1, 2, 3, 4, 5, 6"""  # noqa: S608 - test SQL, constants only
    sql = f"""
        SELECT * FROM (({recount}) EXCEPT (SELECT level, x, y, layer_id, category_id, status, n FROM tile_cells)) a
        UNION ALL
        SELECT * FROM ((SELECT level, x, y, layer_id, category_id, status, n FROM tile_cells) EXCEPT ({recount})) b
    """  # noqa: S608 - test SQL, constants only
    with transaction() as session:
        return list(session.execute(text(sql)))


def execute(sql: str, **params: Any) -> Any:
    with transaction() as session:
        return (
            session.execute(text(sql), params).fetchall()
            if sql.lstrip().upper().startswith("SELECT")
            else (session.execute(text(sql), params))
        )


def submit(client: Any, category: str, lon: float, lat: float, layer: str = "facilities", **extra: Any) -> str:
    response = client.post("/api/reports", json={"layer": layer, "category": category, "lat": lat, "lon": lon, **extra})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture(scope="module")
def seeded(client: Any) -> dict[str, str]:
    """A few reports of our own besides the demo's: an everyday one also on the flood layer, with contact."""
    ids = {
        "manhole": submit(
            client, "manhole-cover", 126.9780, 37.5665, email="private@example.com", phone="010-1234-5678"
        ),
        "light": submit(client, "streetlight-out", 126.9790, 37.5670),
        "drain": submit(client, "drain-grate", 127.0270, 37.4979),
    }
    return ids


def test_the_triggers_keep_the_cells_equal_to_a_recount(client, seeded):
    assert cells_drift() == []
    # Status moves, a category move, a point move, a layer-wide bulk update, a delete, a bulk insert.
    execute("UPDATE reports SET status = 'in_progress' WHERE public_id = :p", p=seeded["light"])
    execute("UPDATE reports SET status = 'closed' WHERE id IN (SELECT id FROM reports ORDER BY id LIMIT 7)")
    execute(
        "UPDATE reports SET category_id = (SELECT id FROM categories WHERE slug = 'pothole') WHERE public_id = :p",
        p=seeded["drain"],
    )
    execute(
        "UPDATE reports SET geom = ST_SetSRID(ST_MakePoint(127.05, 37.51), 4326) WHERE public_id = :p",
        p=seeded["drain"],
    )
    execute("UPDATE reports SET support_count = support_count + 1")
    assert cells_drift() == []
    victim = execute("SELECT id FROM reports ORDER BY id DESC OFFSET 3 LIMIT 1")[0][0]
    execute("DELETE FROM reports WHERE id = :i", i=victim)
    assert cells_drift() == []
    with transaction() as session:
        # A set-based insert of many rows (the generator's way) goes through the statement trigger at once.
        session.execute(
            text("""
                INSERT INTO reports (public_id, layer_id, category_id, geom, status, channel, description, locale,
                                     location_source, routing_rule, routing_manual, support_count)
                SELECT 'BULK' || g, r.layer_id, r.category_id,
                       ST_SetSRID(ST_MakePoint(126.9 + g * 0.0007, 37.5 + g * 0.0004), 4326), 'routed', 'api',
                       '', 'ko', 'pin', '', false, 0
                FROM generate_series(1, 300) g, (SELECT layer_id, category_id FROM reports LIMIT 1) r
            """)
        )
        # A rolled-back change leaves the counts as they were.
        nested = session.begin_nested()
        session.execute(text("DELETE FROM reports WHERE public_id LIKE 'BULK%'"))
        nested.rollback()
    assert cells_drift() == []
    assert (
        execute("SELECT sum(n) FROM tile_cells WHERE level = 16")[0][0] == execute("SELECT count(*) FROM reports")[0][0]
    )


@pytest.mark.parametrize("layer", ["facilities", "flood", "slope"])
def test_a_cluster_shows_its_true_count(client, seeded, layer):
    for z in (8, 11, 13):
        assert cluster_totals(client, layer, z) == expected_totals(client, layer=layer), (layer, z)


def test_cluster_counts_stay_true_through_status_moves_and_deletes(client, seeded):
    before = cluster_totals(client, "flood", 11)
    assert before == expected_totals(client, layer="flood")
    # Closing an everyday report takes it off the flood layer; reopening brings it back; deleting removes it.
    execute("UPDATE reports SET status = 'resolved' WHERE public_id = :p", p=seeded["manhole"])
    assert cluster_totals(client, "flood", 11)["count"] == before["count"] - 1
    assert cluster_totals(client, "facilities", 12) == expected_totals(client, layer="facilities")
    execute("UPDATE reports SET status = 'reopened' WHERE public_id = :p", p=seeded["manhole"])
    assert cluster_totals(client, "flood", 11) == before
    execute("DELETE FROM reports WHERE public_id = :p", p=seeded["manhole"])
    after = cluster_totals(client, "flood", 11)
    assert after["count"] == before["count"] - 1
    assert after == expected_totals(client, layer="flood")


@pytest.mark.parametrize(
    "params",
    [
        {"status": "open"},
        {"status": ["resolved", "triage"]},
        {"category": "streetlight-out"},
        {"category": "streetlight-out", "status": "closed"},
        {"category": "no-such-category"},
    ],
)
def test_low_zoom_filters_match_the_geojson(client, seeded, params):
    assert cluster_totals(client, "facilities", 12, **params) == expected_totals(client, layer="facilities", **params)


def test_since_at_low_zoom_counts_the_recently_changed_reports(client, seeded):
    execute("UPDATE reports SET updated_at = now() - interval '30 days'")
    execute("UPDATE reports SET updated_at = now() WHERE id IN (SELECT id FROM reports ORDER BY id LIMIT 5)")
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    got = cluster_totals(client, "facilities", 11, since=since)
    assert got == expected_totals(client, layer="facilities", since=since)
    assert 0 < got["count"] <= 5


def test_point_tiles_hold_the_reports_of_the_tile_with_public_fields_only(client, seeded):
    found = geojson(client, layer="facilities")
    assert found
    z = 15
    tiles = {tile_of(*f["geometry"]["coordinates"], z) for f in found[:12]}
    for x, y in tiles:
        west, south, east, north = tile_bounds(z, x, y)
        expected = {
            f["properties"]["id"]: f["properties"]
            for f in geojson(client, layer="facilities", bbox=f"{west},{south},{east},{north}")
        }
        got = {}
        for feature in features(client, "facilities", z, x, y):
            px, py = feature["geometry"]["coordinates"]
            assert set(feature["properties"]) == PUBLIC_POINT_FIELDS
            if 0 <= px <= service.EXTENT and 0 <= py <= service.EXTENT:  # not the buffer around the tile
                got[feature["properties"]["id"]] = feature["properties"]
        assert set(got) == set(expected)
        for pid, props in got.items():
            want = expected[pid]
            assert (props["category"], props["status"], props["status_group"], props["supporters"]) == (
                want["category"],
                want["status"],
                want["status_group"],
                want["supporters"],
            )
            created = datetime.fromisoformat(want["created_at"])
            assert props["age_days"] == (datetime.now(UTC) - created).days
            updated = datetime.fromisoformat(want["updated_at"])
            assert props["updated_days"] == (datetime.now(UTC) - updated).days


@pytest.mark.parametrize("z", [15, 16])  # from the finest stored cells at z15, from the reports at z16
def test_a_street_tile_too_dense_for_points_holds_true_count_clusters(client, seeded, monkeypatch, z):
    ids = [submit(client, "pothole", 126.9612 + i * 0.0001, 37.5702) for i in range(4)]
    x, y = tile_of(126.9614, 37.5702, z)
    west, south, east, north = tile_bounds(z, x, y)
    in_tile = geojson(client, layer="facilities", bbox=f"{west},{south},{east},{north}")
    assert set(ids) <= {f["id"] for f in in_tile}
    sparse = decode(client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt").content)
    assert "clusters" not in sparse and len(sparse["reports"]["features"]) >= len(in_tile)
    monkeypatch.setenv("MAPAPP_TILES_MAX_POINTS", str(len(in_tile) - 1))
    get_settings.cache_clear()
    try:
        dense = decode(client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt").content)
        open_only = decode(client.get(f"/tiles/facilities/{z}/{x}/{y}.mvt", params={"status": "open"}).content)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert "reports" not in dense
    clusters = dense["clusters"]["features"]
    assert sum(c["properties"]["count"] for c in clusters) == len(in_tile)  # every report, counted once
    assert len(clusters) < len(in_tile)
    for c in clusters:
        assert c["properties"]["count"] == sum(c["properties"][g] for g in report_status.GROUPS)
    # Filters hold in the dense form too: the open ones only (few enough, they may be points again).
    open_in_tile = [f for f in in_tile if f["properties"]["status_group"] == "open"]
    counted = sum(c["properties"]["count"] for c in open_only.get("clusters", {}).get("features", []))
    assert counted + len(open_only.get("reports", {}).get("features", [])) >= len(open_in_tile)


def test_an_everyday_report_is_on_the_flood_layer_while_open(client, seeded):
    pid = submit(client, "drain-grate", 126.99, 37.55)
    z, (x, y) = 16, tile_of(126.99, 37.55, 16)
    assert pid in {f["properties"]["id"] for f in features(client, "flood", z, x, y)}
    assert pid not in {f["properties"]["id"] for f in features(client, "slope", z, x, y)}
    execute("UPDATE reports SET status = 'closed' WHERE public_id = :p", p=pid)
    assert pid not in {f["properties"]["id"] for f in features(client, "flood", z, x, y)}
    assert pid in {f["properties"]["id"] for f in features(client, "facilities", z, x, y)}


def test_no_private_field_reaches_a_tile(client):
    pid = submit(client, "manhole-cover", 126.9701, 37.5601, email="hidden-person@example.com", phone="010-9999-0000")
    execute(
        "UPDATE reports SET location_flag = 'photo GPS 37.123456,127.654321',"
        " reporter_email = 'hidden-person@example.com' WHERE public_id = :p",
        p=pid,
    )
    for z in (11, 13, 14, 17):
        x, y = tile_of(126.9701, 37.5601, z)
        for layer in ("facilities", "flood"):
            body = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt").content
            for secret in (b"hidden-person", b"9999", b"37.123456", b"127.654321"):
                assert secret not in body
            for feature in (f for d in decode(body).values() for f in d["features"]):
                assert set(feature["properties"]) in (PUBLIC_POINT_FIELDS, CLUSTER_FIELDS)


def test_etag_304_and_a_new_etag_when_the_layer_changes(client, seeded):
    x, y = tile_of(126.978, 37.5665, 13)
    url = f"/tiles/facilities/13/{x}/{y}.mvt"
    first = client.get(url)
    tag = first.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    assert "public" in first.headers["cache-control"] and "stale-while-revalidate=" in first.headers["cache-control"]
    assert client.get(url).headers["etag"] == tag
    not_modified = client.get(url, headers={"If-None-Match": f'"other", {tag}'})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == tag
    assert client.get(url, params={"status": "open"}).headers["etag"] != tag  # filters are part of the tag
    # A change on another layer leaves this layer's tiles valid; a change on this layer does not.
    slope_tag = client.get(f"/tiles/slope/13/{x}/{y}.mvt").headers["etag"]
    execute("UPDATE reports SET support_count = support_count + 1 WHERE public_id = :p", p=seeded["light"])
    assert client.get(f"/tiles/slope/13/{x}/{y}.mvt").headers["etag"] == slope_tag
    changed = client.get(url, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag


@contextmanager
def statements_run(engine: Any) -> Iterator[list[str]]:
    """The statements `engine` runs inside the block."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def flood_active() -> Iterator[None]:
    """The flood layer switched on (its tiles are then kept in memory), with an empty tile cache; off after."""
    service.tile_cache().clear()
    execute("UPDATE layers SET state = 'active', active_until = NULL WHERE slug = 'flood'")
    yield
    execute("UPDATE layers SET state = 'inactive' WHERE slug = 'flood'")


def test_hot_tiles_of_an_active_disaster_layer_come_from_memory(client, seeded, flood_active):
    x, y = tile_of(126.978, 37.5665, 12)
    url = f"/tiles/flood/12/{x}/{y}.mvt"
    first, second = client.get(url), client.get(url)
    assert first.headers["x-tile-cache"] == "miss" and second.headers["x-tile-cache"] == "hit"
    assert first.content == second.content and first.headers["etag"] == second.headers["etag"]
    # An everyday layer is not kept; a change makes a new tag, so the cached copy is never served stale.
    assert client.get(f"/tiles/facilities/12/{x}/{y}.mvt").headers["x-tile-cache"] == "miss"
    assert client.get(f"/tiles/facilities/12/{x}/{y}.mvt").headers["x-tile-cache"] == "miss"
    submit(client, "drain-grate", 126.978, 37.5665)
    third = client.get(url)
    assert third.headers["x-tile-cache"] == "miss" and third.headers["etag"] != first.headers["etag"]


def elsewhere(demo_db: str, sql: str, *params: Any) -> None:
    """A write by another process: a connection of its own, not through this process's engines."""
    url = make_url(demo_db)
    with psycopg2.connect(dbname=url.database, host=url.query.get("host"), user=url.username) as conn:
        conn.cursor().execute(sql, params)
    conn.close()


def test_a_hot_tile_is_answered_without_a_query_within_the_version_window(client, seeded, demo_db, flood_active):
    x, y = tile_of(126.978, 37.5665, 12)
    drain = submit(client, "drain-grate", 127.0270, 37.4979)  # an open everyday report: also on the flood layer
    bump = "UPDATE reports SET support_count = support_count + 1 WHERE public_id = %s"
    url = f"/tiles/flood/12/{x}/{y}.mvt"
    first = client.get(url)
    tag = first.headers["etag"]
    with statements_run(get_engine(demo_db)) as statements:
        hit = client.get(url)
        not_modified = client.get(url, headers={"If-None-Match": tag})
    assert hit.headers["x-tile-cache"] == "hit" and hit.content == first.content
    assert not_modified.status_code == 304
    assert statements == []  # neither asked the database
    # Another process changes the layer: within the window the kept version still serves; a client that
    # revalidates reads the database at once, and so does everyone after the window.
    elsewhere(demo_db, bump, drain)
    assert client.get(url).headers["etag"] == tag
    assert client.get(url, headers={"Cache-Control": "max-age=0"}).headers["etag"] != tag
    elsewhere(demo_db, bump, drain)
    newer = client.get(url, headers={"Cache-Control": "no-cache"}).headers["etag"]
    elsewhere(demo_db, bump, drain)
    time.sleep(get_settings().version_seconds + 0.1)
    assert client.get(url).headers["etag"] not in (tag, newer)
    # A write through this process is seen at once, window or not.
    before = client.get(url).headers["etag"]
    submit(client, "drain-grate", 126.978, 37.5665)
    assert client.get(url).headers["etag"] != before


def test_the_edge_answers_hot_tiles_alike_and_leaves_everything_else_to_the_route(client, seeded, flood_active):
    """HotTiles (in front of the routes) answers what memory can, with the route's own headers."""
    x, y = tile_of(126.978, 37.5665, 12)
    url = f"/tiles/flood/12/{x}/{y}.mvt"
    built = client.get(url, params={"status": "open"})  # the route: reads the version, builds, keeps
    remembered = client.get(url, params={"status": "open"})
    assert (built.headers["x-tile-cache"], remembered.headers["x-tile-cache"]) == ("miss", "hit")
    same = ("etag", "cache-control", "content-type", "content-security-policy", "x-content-type-options")
    assert [remembered.headers[h] for h in same] == [built.headers[h] for h in same]
    assert remembered.content == built.content

    passed_on: list[str] = []

    async def route(scope: Any, receive: Any, send: Any) -> None:
        passed_on.append(scope["query_string"].decode())
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def ask(query: str, headers: list[tuple[bytes, bytes]] | None = None, method: str = "GET") -> int:
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": method,
            "path": url,
            "query_string": query.encode(),
            "headers": headers or [],
        }
        # In a thread of its own: in a full run the browser tests' driver keeps an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, HotTiles(route)(scope, receive, send)).result()
        return int(sent[0]["status"])

    assert ask("status=open") == 200 and passed_on == []
    assert ask("status=open", [(b"if-none-match", built.headers["etag"].encode())]) == 304 and passed_on == []
    for query, headers in [
        ("status=open&since=2026-01-01", None),  # not read here
        ("status=nonsense", None),  # the route says what is wrong
        ("status=open&category=pothole", None),  # a context not known yet
        ("status=open", [(b"cache-control", b"no-cache")]),  # a reload
        ("status=open", [(b"cookie", b"mapapp_wrote=0/16B3748")]),  # a citizen who has just reported
    ]:
        assert ask(query, headers) == 299, query
    assert ask("status=open", method="HEAD") == 299
    assert len(passed_on) == 6
    assert client.get(url, params={"status": "nonsense"}).json()["error"]["code"] == "invalid_input"


def test_revalidation_requests():
    assert caching.revalidation_requested("no-cache") and caching.revalidation_requested("max-age=0")
    assert caching.revalidation_requested("public, Max-Age = 0") and caching.revalidation_requested("no-store")
    assert not caching.revalidation_requested(None) and not caching.revalidation_requested("max-age=10")


def test_the_tile_cache_keeps_to_its_byte_budget():
    cache = service.TileCache(max_bytes=10)
    cache.put("a", b"1234")
    cache.put("b", b"5678")
    assert cache.get("a") == b"1234"  # now the most recently used
    cache.put("c", b"90ab")
    assert cache.get("b") is None and cache.get("a") == b"1234" and cache.get("c") == b"90ab"
    cache.put("huge", b"x" * 11)
    assert cache.get("huge") is None


def test_tilejson(client):
    doc = client.get("/tiles/flood.json", params={"status": "open"}).json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == ["http://127.0.0.1:8000/tiles/flood/{z}/{x}/{y}.mvt?status=open"]
    west, south, east, north = doc["bounds"]
    assert 126 < west < east < 128 and 37 < south < north < 38
    assert {layer["id"] for layer in doc["vector_layers"]} == {"reports", "clusters"}
    points = next(layer for layer in doc["vector_layers"] if layer["id"] == "reports")
    assert set(points["fields"]) == PUBLIC_POINT_FIELDS
    assert doc["minzoom"] <= points["minzoom"] <= doc["maxzoom"]


@pytest.mark.parametrize(
    ("url", "status", "code"),
    [
        ("/tiles/nowhere/3/1/1.mvt", 404, "layer_not_found"),
        ("/tiles/nowhere.json", 404, "layer_not_found"),
        ("/tiles/facilities/3/8/1.mvt", 422, "invalid_input"),
        ("/tiles/facilities/30/1/1.mvt", 422, "invalid_input"),
        ("/tiles/facilities/3/1/1.mvt?status=bogus", 422, "invalid_input"),
        ("/tiles/facilities/3/x/1.mvt", 422, "invalid_request"),
    ],
)
def test_bad_tile_requests(client, url, status, code):
    response = client.get(url)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_geojson_etag_304_and_a_new_etag_when_a_report_changes(client, seeded):
    params = {"layer": "facilities", "bbox": "126.9,37.5,127.1,37.6", "limit": 50}
    first = client.get("/api/reports", params=params)
    tag = first.headers["etag"]
    assert tag.startswith('"') and "public" in first.headers["cache-control"]
    assert client.get("/api/reports", params=params).headers["etag"] == tag
    again = client.get("/api/reports", params=params, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert client.get("/api/reports", params=params | {"limit": 51}).headers["etag"] != tag  # the query counts
    # Another layer's change leaves this answer valid; a change to a report it shows does not.
    slope = client.get("/api/reports", params=params | {"layer": "slope"}).headers["etag"]
    execute("UPDATE reports SET support_count = support_count + 1 WHERE public_id = :p", p=seeded["light"])
    assert client.get("/api/reports", params=params | {"layer": "slope"}).headers["etag"] == slope
    changed = client.get("/api/reports", params=params, headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert seeded["light"] in {f["id"] for f in changed.json()["features"]}
    # Without a layer, any report's change makes a new tag.
    everything = client.get("/api/reports", params={"limit": 10}).headers["etag"]
    execute("UPDATE reports SET support_count = support_count + 1 WHERE public_id = :p", p=seeded["drain"])
    assert client.get("/api/reports", params={"limit": 10}).headers["etag"] != everything


def test_a_geojson_304_within_the_version_window_needs_no_query(client, demo_db):
    params = {"layer": "facilities", "bbox": "126.9,37.5,127.1,37.6", "limit": 50}
    light = submit(client, "streetlight-out", 126.9790, 37.5670)
    tag = client.get("/api/reports", params=params).headers["etag"]
    with statements_run(get_engine(demo_db)) as statements:
        assert client.get("/api/reports", params=params, headers={"If-None-Match": tag}).status_code == 304
    assert statements == []
    # Changed by another process: the kept version serves until the window ends, unless the client revalidates.
    elsewhere(demo_db, "UPDATE reports SET support_count = support_count + 1 WHERE public_id = %s", light)
    assert client.get("/api/reports", params=params, headers={"If-None-Match": tag}).status_code == 304
    revalidated = client.get("/api/reports", params=params, headers={"If-None-Match": tag, "Cache-Control": "no-cache"})
    assert revalidated.status_code == 200 and revalidated.headers["etag"] != tag
    elsewhere(demo_db, "UPDATE reports SET support_count = support_count + 1 WHERE public_id = %s", light)
    time.sleep(get_settings().version_seconds + 0.1)
    later = client.get("/api/reports", params=params, headers={"If-None-Match": revalidated.headers["etag"]})
    assert later.status_code == 200


@pytest.mark.parametrize("limit", [1, 7, 10000])
def test_geojson_reads_the_same_page_box_first_or_newest_first(client, seeded, limit):
    from mapapp.reports import filters, queries

    where = filters.Where(params={"limit": limit + 1, "media": queries.MEDIA})
    filters.bbox(where, (126.95, 37.54, 127.05, 37.60))
    filters.shown_on_layer(where, "facilities")
    pages = []
    with transaction() as session:
        for box_first in (True, False):
            sql = queries.collection_sql(where.sql(), box_first=box_first)
            pages.append(tuple(session.execute(text(sql), where.params).one()))
    assert pages[0] == pages[1] and pages[0][0] > 0


def test_the_box_estimate_picks_the_spatial_read_for_a_small_box_only(client, seeded):
    from mapapp.reports import queries

    with transaction() as session:
        assert queries.read_box_first(session, (126.977, 37.566, 126.979, 37.567), 1000)
        assert not queries.read_box_first(session, (124.0, 33.0, 132.0, 39.0), 1)
