"""Alembic environment: a connection handed in by the caller, or MAPAPP_DATABASE_URL."""

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from mapapp.core.settings import get_settings
from mapapp.models import Base

config = context.config
target_metadata = Base.metadata


def _include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # PostGIS and its extensions own these tables; they are not ours to migrate.
    return not (type_ == "table" and reflected and compare_to is None)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, include_object=_include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.attributes.get("url") or get_settings().database_url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


run_migrations_online()
