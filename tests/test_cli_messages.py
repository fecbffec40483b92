"""What the `mapapp` command says when things are not set up yet: one true line, with the fix."""

import socket
import uuid

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from mapapp.cli import app
from tests.conftest import _admin, database_url, use_database

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_a_missing_database_is_one_line_with_the_fix_not_a_traceback(db_url):
    use_database(database_url(f"mapapp_missing_{uuid.uuid4().hex[:6]}"))
    try:
        result = run("layers", "sync")
    finally:
        use_database(db_url)
    assert result.exit_code == 2
    assert "cannot reach the database" in result.output and "MAPAPP_DATABASE_URL" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 3


def test_an_unmigrated_database_says_to_run_db_upgrade(db_url):
    name = f"mapapp_test_empty_{uuid.uuid4().hex[:6]}"
    with _admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    use_database(database_url(name))
    try:
        routed = run("route", "126.9016", "37.5663", "--category", "pothole")
        synced = run("layers", "sync")
        first = run("db", "upgrade")
        again = run("db", "upgrade")
    finally:
        use_database(db_url)
        create_engine(database_url(name)).dispose()
        with _admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    for result in (routed, synced):
        assert result.exit_code == 2 and "run `mapapp db upgrade`" in result.output, result.output
        assert "st_makepoint" not in result.output.lower() and "Traceback" not in result.output
    assert first.exit_code == 0 and "migrated from revision empty to" in first.output
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_a_second_layer_sync_says_nothing_changed(fresh_db):
    assert run("layers", "sync").exit_code == 0
    result = run("layers", "sync")
    assert result.exit_code == 0 and "0 created, 0 updated" in result.output, result.output


def test_a_western_longitude_is_an_argument_and_an_unknown_language_is_refused(fresh_db):
    assert run("layers", "sync").exit_code == 0
    west = run("route", "-73.98", "40.75", "--category", "pothole")
    assert "No such option" not in west.output
    assert west.exit_code == 2 and "outside_service_area" in west.output, west.output
    french = run("route", "126.9", "37.56", "--category", "pothole", "--lang", "fr")
    assert french.exit_code == 2 and "'fr' is not one of" in french.output


def test_serve_says_the_port_is_taken_before_claiming_to_serve(db_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.exit_code == 2 and "cannot serve on 127.0.0.1" in result.output
    assert "serving on" not in result.output
