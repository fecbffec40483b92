"""Migrations: upgrade, downgrade to nothing, upgrade again; and the models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from mapapp.models import Base
from tests.conftest import migrate


def _tables(url):
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(fresh_db):
    assert {"jurisdictions", "jurisdiction_parts", "offices", "layers", "categories", "reports"} <= _tables(fresh_db)
    migrate(fresh_db, "base", down=True)
    assert _tables(fresh_db) == set()
    migrate(fresh_db, "head")
    assert "reports" in _tables(fresh_db)


def test_models_and_migrations_agree(db_url):
    engine = create_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": lambda obj, name, type_, reflected, compare_to: (
                    not (type_ == "table" and reflected and compare_to is None)
                )
            },
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []
