import pytest
from pydantic import ValidationError

from mapapp.core.settings import Settings


def test_production_refuses_the_development_secret():
    with pytest.raises(ValidationError, match="MAPAPP_SECRET_KEY must be set"):
        Settings(environment="production")


def test_production_accepts_a_long_secret():
    assert Settings(environment="production", secret_key="x" * 40).environment == "production"


def test_database_url_must_be_postgres_and_gets_the_driver():
    with pytest.raises(ValidationError, match="must be a PostgreSQL URL"):
        Settings(database_url="sqlite:///x.db")
    assert Settings(database_url="postgresql://u@h/db").database_url == "postgresql+psycopg2://u@h/db"


def test_settings_come_from_mapapp_environment_variables(monkeypatch):
    monkeypatch.setenv("MAPAPP_GAP_TOLERANCE_M", "75")
    assert Settings().gap_tolerance_m == 75
    monkeypatch.setenv("MAPAPP_GAP_TOLERANCE_M", "-1")
    with pytest.raises(ValidationError, match="gap_tolerance_m"):
        Settings()
