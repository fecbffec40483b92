"""The database engine and session factory; one transaction per request or command."""

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from mapapp.core.settings import get_settings

# Stable constraint names keep Alembic migrations and downgrades deterministic.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the configured database), created once per URL."""
    return _engine(url or get_settings().database_url)


@lru_cache
def _engine(url: str) -> Engine:
    settings = get_settings()
    return create_engine(
        url,
        pool_pre_ping=True,  # survive a database restart: stale connections are replaced
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
    )


@lru_cache
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(_engine(url), expire_on_commit=False)


def prepared_statements_allowed() -> bool:
    """False behind PgBouncer in transaction mode, where a PREPARE lives on a server connection that the next
    transaction may not get (MAPAPP_DATABASE_POOLER=pgbouncer-transaction): then hot statements go whole."""
    return get_settings().database_pooler == "none"


@contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """A session whose work is committed when the block ends, or rolled back if it raises."""
    session = _sessionmaker(url or get_settings().database_url)()
    try:
        with session.begin():
            yield session
    finally:
        session.close()


@contextmanager
def read_transaction(url: str | None = None) -> Iterator[Session]:
    """A session for reads only: rolled back at the end, never committed. Its end cannot fail the answer: when
    the database (a replica restarting) went away after the answer was made, there is nothing to undo."""
    session = _sessionmaker(url or get_settings().database_url)()
    try:
        yield session
    finally:
        with suppress(DBAPIError):  # the connection is invalidated and replaced by the pool
            session.rollback()
        session.close()
