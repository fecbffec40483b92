"""`mapapp demo generate`: many reports, routed as `routing.route` routes them, with ordered timelines,
photo files that exist, and memory that does not grow with the number of reports."""

import itertools
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mapapp import routing
from mapapp.cli import app
from mapapp.core.settings import get_settings
from mapapp.demo import service as demo

runner = CliRunner()
MAPAPP = str(Path(sys.executable).parent / "mapapp")


@pytest.fixture(scope="module")
def generated(template_db: str, db_url: str):  # type: ignore[no-untyped-def]
    """A database with the demo city and 20,000 generated reports (made once for the module)."""
    import uuid

    from tests.conftest import RUN_ID, _admin, clone_template, use_database

    name = f"mapapp_test_{RUN_ID}_gen_{uuid.uuid4().hex[:6]}"
    url = clone_template(template_db, name)
    use_database(url)
    result = runner.invoke(app, ["demo", "generate", "--reports", "20000", "--seed", "5"])
    assert result.exit_code == 0, result.output
    yield url, result.output
    from mapapp.core import db as core_db

    core_db.get_engine(url).dispose()
    use_database(db_url)
    with _admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_generate_adds_the_reports_to_the_demo_city_with_decisions_events_and_photos(generated):
    url, output = generated
    assert "20,000 reports" in output and "peak memory" in output
    with create_engine(url).connect() as conn:
        counts = conn.execute(
            text(
                "SELECT (SELECT count(*) FROM reports), (SELECT count(DISTINCT report_id) FROM routing_decisions), "
                "(SELECT count(*) FROM reports WHERE district_id IS NULL OR dong_id IS NULL), "
                "(SELECT count(DISTINCT category_id) FROM reports), (SELECT count(*) FROM categories), "
                "(SELECT count(*) FROM photos), (SELECT count(DISTINCT display_key) FROM photos), "
                "(SELECT count(*) FROM jurisdictions WHERE level = 'dong'), "
                "(SELECT count(DISTINCT dong_id) FROM reports)"
            )
        ).one()
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM reports GROUP BY status")).all())
        age_days = conn.execute(
            text("SELECT extract(epoch FROM now() - min(created_at)) / 86400 FROM reports")
        ).scalar_one()
        analyzed = conn.execute(
            text("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'reports' AND last_analyze IS NOT NULL")
        ).scalar_one()
        keys = conn.execute(
            text("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'reports'::regclass")
        ).scalar_one()
        indexes = conn.execute(text("SELECT count(*) FROM pg_indexes WHERE tablename = 'reports'")).scalar_one()
    reports, decided, unplaced, categories, all_categories, photos, files, dong, dong_used = counts
    assert reports == decided == 20_000 and unplaced == 0
    assert categories == all_categories  # every category
    assert set(statuses) == {
        "routed",
        "triage",
        "acknowledged",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
        "reopened",
    }
    # Plausible proportions: most old reports are done, and some wait in triage (one district lacks an office).
    assert statuses["resolved"] > statuses["routed"] > statuses["triage"] > 0
    assert 0.3 < statuses["resolved"] / reports < 0.8
    assert 600 < age_days <= 731  # ages spread over two years
    assert dong_used == dong == 425
    assert 0.3 * reports < photos < 1.5 * reports and files == 4  # a few shared placeholder files
    assert analyzed == 1
    # The keys and indexes set aside during the load are all back.
    assert keys == 7 and indexes >= 8  # 7: reports.assigned_to → users (migration 0013)


def test_reports_cluster_around_hot_spots_inside_their_dong(generated):
    url, _ = generated
    with create_engine(url).connect() as conn:
        # Share of a dong's reports within 300 m of the busiest 100 m cell of that dong, against what a
        # uniform spread over the dong would put there.
        clustered = conn.execute(
            text(
                """
                WITH cells AS (
                    SELECT dong_id, ST_SnapToGrid(geom, 0.001) AS cell, count(*) AS n FROM reports
                    GROUP BY 1, 2
                ), top AS (SELECT DISTINCT ON (dong_id) dong_id, cell FROM cells ORDER BY dong_id, n DESC)
                SELECT avg(near::float / total) FROM (
                    SELECT r.dong_id, count(*) AS total,
                           count(*) FILTER (WHERE ST_DWithin(r.geom::geography, t.cell::geography, 300)) AS near
                    FROM reports r JOIN top t USING (dong_id) GROUP BY r.dong_id
                ) x
                """
            )
        ).scalar_one()
    assert clustered > 0.25, clustered


def test_every_generated_report_is_routed_as_route_would_route_it(generated):
    url, _ = generated
    engine = create_engine(url)
    with Session(engine) as session:
        ids = session.scalars(text("SELECT id FROM reports ORDER BY id")).all()
        sample = random.Random(3).sample(ids, 200)
        rows = session.execute(
            text(
                "SELECT r.id, ST_X(r.geom), ST_Y(r.geom), c.slug, r.office_id, r.district_id, r.city_id, r.dong_id, "
                "r.status, r.routing_rule, d.method, d.reason_code, d.reason_params, d.rule "
                "FROM reports r JOIN categories c ON c.id = r.category_id "
                "JOIN routing_decisions d ON d.report_id = r.id WHERE r.id = ANY(:ids)"
            ),
            {"ids": sample},
        ).all()
        assert len(rows) == 200
        for rid, lon, lat, slug, office, district, city, dong, status, rule, method, code, params, drule in rows:
            decision = routing.route(session, lon=lon, lat=lat, category=slug)
            expected_office = decision.office.id if decision.office else None
            assert office == expected_office, rid
            assert district == decision.jurisdiction("district").id, rid  # type: ignore[union-attr]
            assert city == decision.jurisdiction("city").id, rid  # type: ignore[union-attr]
            assert dong == decision.jurisdiction("dong").id, rid  # type: ignore[union-attr]
            assert (status == "triage") == decision.triage, rid
            assert rule == drule == decision.rule and method == decision.method and code == decision.reason_code
            assert params == pytest.approx(decision.reason_params), rid
    engine.dispose()


def test_every_generated_timeline_runs_forward_and_matches_the_report(generated):
    url, _ = generated
    with create_engine(url).connect() as conn:
        loaded = conn.execute(text("SELECT now()")).scalar_one()
        rows = conn.execute(
            text(
                "SELECT r.id, r.status, r.created_at, r.updated_at, r.routed_at, r.resolved_at, r.close_reason, "
                "array_agg(e.created_at ORDER BY e.id), "
                "array_agg(coalesce(e.from_status, '') || '>' || e.to_status ORDER BY e.id), "
                "(SELECT array_agg(d.decided_at) FROM routing_decisions d WHERE d.report_id = r.id) "
                "FROM reports r JOIN report_events e ON e.report_id = r.id GROUP BY r.id"
            )
        ).all()
    assert len(rows) == 20_000
    for rid, status, created, updated, routed_at, resolved_at, reason, times, moves, decided in rows:
        assert times[0] == created < routed_at == times[1] and decided == [routed_at], rid
        assert all(a < b for a, b in itertools.pairwise(times)), (rid, moves, times)
        assert times[-1] == updated < loaded, rid
        steps = [m.split(">") for m in moves]
        assert all(prev[1] == nxt[0] for prev, nxt in itertools.pairwise(steps)), (rid, moves)
        assert steps[-1][1] == status, (rid, moves)
        if status in ("resolved", "reopened"):
            assert resolved_at == times[moves.index("in_progress>resolved")], rid
        assert (reason is not None) == (status == "closed"), rid


def test_every_photo_row_names_a_file_in_the_media_store(generated):
    url, _ = generated
    with create_engine(url).connect() as conn:
        keys = conn.execute(text("SELECT DISTINCT display_key FROM photos UNION SELECT DISTINCT thumb_key FROM photos"))
        keys = [k for (k,) in keys]
        after = conn.execute(text("SELECT count(*) FROM photos WHERE kind = 'after'")).scalar_one()
        with_gps = conn.execute(
            text(
                "SELECT count(*) FROM photos p JOIN reports r ON r.id = p.report_id "
                "WHERE r.location_source = 'photo' AND p.position = 0 AND p.kind = 'before' "
                "AND p.gps_lat = ST_Y(r.geom) AND p.gps_lon = ST_X(r.geom)"
            )
        ).scalar_one()
    media = get_settings().media_dir
    assert len(keys) == 8 and all((media / key).is_file() for key in keys)
    assert after > 0 and with_gps > 1000


def test_generate_refuses_a_database_with_real_data(fresh_db):
    with create_engine(fresh_db).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO jurisdictions (code, name_ko, name_en, level, geometry_source, source) "
                "VALUES ('11', '서울특별시', 'Seoul', 'city', 'derived', 'cli')"
            )
        )
    result = runner.invoke(app, ["demo", "generate", "--reports", "10"])
    assert result.exit_code == 2 and "not demo data" in result.output
    with create_engine(fresh_db).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM reports")).scalar_one() == 0


def _peak_growth_mib(url: str, reports: int) -> float:
    """Run `mapapp demo generate` in its own process and return its peak RSS minus its RSS at the start."""
    script = (
        "import sys; from mapapp.demo.generate import peak_rss_mib; base = peak_rss_mib(); "
        "from mapapp.cli import app; sys.argv = ['mapapp', 'demo', 'generate', '--reports', sys.argv[1]]\n"
        "try:\n    app()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print('growth', peak_rss_mib() - base)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(reports)],
        env=dict(os.environ, MAPAPP_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return float(re.search(r"growth ([\d.]+)", out.stdout).group(1))  # type: ignore[union-attr]


def test_memory_stays_flat_from_20_000_to_100_000_reports(fresh_db):
    with create_engine(fresh_db).begin() as conn:
        conn.execute(text("SELECT 1"))
    small = _peak_growth_mib(fresh_db, 20_000)
    large = _peak_growth_mib(fresh_db, 100_000)  # adds to the same city
    assert large < small + 15, (small, large)


def test_demo_load_uses_the_same_path(session):
    from mapapp.layers import service as layers
    from tests.conftest import PROJECT

    summary = demo.load_demo(session, definitions=layers.load_layer_files(PROJECT / "layers"), reports=300, seed=2)
    assert summary.reports == 300
    sources = session.execute(text("SELECT DISTINCT channel FROM reports")).scalars().all()
    decided = session.scalar(text("SELECT count(*) FROM routing_decisions WHERE decided_by = 'system'"))
    assert sources == ["demo"] and decided == 300
