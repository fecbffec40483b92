"""Demo data: a city that looks alive after the first command, loaded only into an empty database."""

import pytest
import shapely
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mapapp.cli import app
from mapapp.demo.service import DISTRICTS, OUTLINE, district_cells

runner = CliRunner()


def test_district_cells_tile_the_outline_without_gaps_or_overlaps():
    cells = district_cells()
    assert len(cells) == 25 == len(DISTRICTS)
    union = shapely.union_all([geom for *_, geom in cells])
    outline = shapely.Polygon(OUTLINE)
    assert abs(union.area - outline.area) < 1e-9
    assert sum(geom.area for *_, geom in cells) == pytest.approx(outline.area, rel=1e-9)
    for (code, *_, lon, lat), (cell_code, *_, geom) in zip(DISTRICTS, cells, strict=True):
        assert code == cell_code and geom.contains(shapely.Point(lon, lat))


def test_demo_load_fills_an_empty_database_and_is_a_no_op_the_second_time(fresh_db):
    first = runner.invoke(app, ["demo", "load", "--if-empty"])
    assert first.exit_code == 0, first.output
    assert "25 districts" in first.output and "400 reports" in first.output
    with create_engine(fresh_db).connect() as conn:
        statuses = dict(conn.execute(text("SELECT status, count(*) FROM reports GROUP BY status")).all())
        layers_with_reports = conn.execute(text("SELECT count(DISTINCT layer_id) FROM reports")).scalar_one()
        unrouted = conn.execute(text("SELECT count(*) FROM reports WHERE district_id IS NULL")).scalar_one()
        decisions = conn.execute(text("SELECT count(DISTINCT report_id) FROM routing_decisions")).scalar_one()
    assert sum(statuses.values()) == 400
    assert {"routed", "acknowledged", "in_progress", "resolved", "closed", "triage"} <= set(statuses)
    assert layers_with_reports == 3 and unrouted == 0 and decisions == 400

    second = runner.invoke(app, ["demo", "load", "--if-empty"])
    assert second.exit_code == 0 and "already has data" in second.output
    without_flag = runner.invoke(app, ["demo", "load"])
    assert without_flag.exit_code == 2 and "already loaded" in without_flag.output


def test_demo_load_refuses_a_database_with_real_data(fresh_db, tmp_path):
    with create_engine(fresh_db).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO jurisdictions (code, name_ko, name_en, level, geometry_source, source) "
                "VALUES ('11', '서울특별시', 'Seoul', 'city', 'derived', 'cli')"
            )
        )
    result = runner.invoke(app, ["demo", "load"])
    assert result.exit_code == 2 and "not demo data" in result.output
    with create_engine(fresh_db).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jurisdictions")).scalar_one() == 1
