"""The HTTP application: health, the public layer list, and the error body shape."""

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from mapapp.app import create_app
from mapapp.cli import app as cli


@pytest.fixture
def client(fresh_db):
    assert CliRunner().invoke(cli, ["demo", "load"]).exit_code == 0
    with TestClient(create_app()) as c:
        yield c


def test_health(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_only_active_layers_are_listed_with_their_categories(client):
    body = client.get("/api/layers").json()
    assert [layer["slug"] for layer in body["layers"]] == ["facilities"]
    streetlight = next(c for c in body["layers"][0]["categories"] if c["slug"] == "streetlight-out")
    assert streetlight["name"] == {"ko": "가로등 고장", "en": "Streetlight out"}
    assert "department" not in streetlight


def test_unknown_route_and_bad_request_shapes(client):
    assert client.get("/api/nothing-here").status_code == 404
    docs = client.get("/openapi.json").json()
    assert "/api/layers" in docs["paths"]
