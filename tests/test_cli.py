"""The `mapapp` command, run as a newcomer would, against a database of its own."""

import json
import re

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mapapp.cli import app
from tests.conftest import PROJECT, shared_data
from tests.factories import district, square, write_geojson

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["db"],
        ["boundaries", "import"],
        ["offices", "create"],
        ["layers", "sync"],
        ["route"],
        ["reports", "reroute"],
        ["demo", "load"],
        ["serve"],
        ["jurisdictions", "create"],
    ],
)
def test_every_command_has_help(command):
    result = runner.invoke(app, [*command, "--help"], prog_name="mapapp")
    assert result.exit_code == 0
    assert "Usage: mapapp" in result.output and len(result.output) > 200


def test_a_newcomer_sets_up_seoul_and_routes_a_point(fresh_db):
    path = shared_data("boundaries", "seoul_gu_2015.geojson")
    assert run("layers", "sync").exit_code == 0
    assert run("jurisdictions", "create", "--code", "11", "--name", "서울특별시", "--name-en", "Seoul").exit_code == 0
    result = run(
        "boundaries",
        "import",
        str(path),
        "--level",
        "district",
        "--code-field",
        "SIG_CD",
        "--name-field",
        "SIG_KOR_NM",
        "--name-en-field",
        "SIG_ENG_NM",
    )
    assert result.exit_code == 0, result.output
    assert "imported 25 district jurisdictions from 25 features" in result.output
    assert "repaired 1 invalid polygons" in result.output
    assert (
        run(
            "offices",
            "create",
            "--jurisdiction",
            "11440",
            "--department",
            "roads",
            "--name",
            "마포구 도로과",
            "--name-en",
            "Mapo-gu Roads",
        ).exit_code
        == 0
    )

    result = run("route", "126.9016", "37.5663", "--category", "streetlight-out", "--json")
    assert result.exit_code == 0, result.output
    decision = json.loads(result.output)
    assert decision["office"] == "11440-roads" and decision["reason_code"] == "routed_by_category"
    assert [j["code"] for j in decision["jurisdictions"]] == ["11", "11440"]

    summary = run("boundaries", "summary")
    assert "district" in summary.output and "25" in summary.output


def test_a_failed_import_exits_2_with_the_reason_and_changes_nothing(fresh_db, tmp_path):
    good = write_geojson(tmp_path / "good.geojson", [district("A", "가구", square(127.0, 37.5, 0.01))])
    bad = write_geojson(
        tmp_path / "bad.geojson",
        [
            district("A", "나구", square(127.0, 37.5, 0.01)),
            {"type": "Feature", "properties": {"code": "B", "name": "b"}, "geometry": None},
        ],
    )
    args = ["--level", "district", "--code-field", "code", "--name-field", "name"]
    assert run("boundaries", "import", str(good), *args).exit_code == 0
    result = run("boundaries", "import", str(bad), *args)
    assert result.exit_code == 2
    assert "feature 2 (code=B): has no geometry" in result.output
    with create_engine(fresh_db).connect() as conn:
        assert conn.execute(text("SELECT name_ko FROM jurisdictions WHERE code = 'A'")).scalar_one() == "가구"


def test_layer_sync_reports_typos_and_exits_2(fresh_db, tmp_path):
    (tmp_path / "flood.yaml").write_text((PROJECT / "layers" / "flood.yaml").read_text().replace("kind:", "knid:"))
    result = run("layers", "sync", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "flood.yaml: knid: unknown key" in result.output


def test_route_outside_the_city_is_a_specific_error(fresh_db):
    run("layers", "sync")
    run("demo", "load")
    result = run("route", "129.07", "35.18", "--category", "pothole")
    assert result.exit_code == 2 and "outside_service_area" in result.output


def test_reroute_command_reports_what_it_did(fresh_db):
    assert run("demo", "load", "--reports", "50").exit_code == 0
    result = run("reports", "reroute")
    assert result.exit_code == 0, result.output
    assert re.search(
        r"checked 50 reports \(\d decided again\): 0 changed district, 0 open reports moved office", result.output
    )


def test_layers_are_switched_on_and_off_from_the_command_line(fresh_db):
    assert run("layers", "sync").exit_code == 0
    on = run("layers", "activate", "flood", "--banner-ko", "침수 주의", "--until", "2099-01-01T00:00:00+09:00")
    assert on.exit_code == 0 and "flood is active until 2099" in on.output
    assert run("layers", "activate", "facilities").exit_code == 2  # everyday layers are always on
    assert "inactive" in run("layers", "deactivate", "flood").output
    with create_engine(fresh_db).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM layer_events")).scalar_one() == 2


def test_the_first_administrator_is_made_with_the_cli(fresh_db):
    result = runner.invoke(
        app,
        ["users", "create", "--email", "Admin@City.example", "--name", "Admin", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
        prog_name="mapapp",
    )
    assert result.exit_code == 0, result.output
    short = runner.invoke(
        app,
        ["users", "create", "--email", "b@city.example", "--name", "B", "--role", "admin", "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 2 and "12 characters" in short.output
    with create_engine(fresh_db).connect() as conn:
        stored = conn.execute(text("SELECT email, password_hash FROM users")).one()
    assert stored[0] == "admin@city.example" and stored[1].startswith("$argon2")
