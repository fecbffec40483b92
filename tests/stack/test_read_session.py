"""The public-read session: read-only, and its end cannot fail an answer already made."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, InternalError
from sqlalchemy.pool import NullPool

from mapapp.core.db import read_transaction, transaction


def _terminate(url: str, pid: int) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    engine.dispose()


def test_a_read_whose_connection_died_after_the_answer_ends_quietly(fresh_db):
    with read_transaction() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(fresh_db, pid)  # a replica restarting just after the query
    # The same with a committing session raises at its end: what used to cut a finished answer.
    with pytest.raises(DBAPIError), transaction() as session:
        pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        _terminate(fresh_db, pid)


def test_a_read_session_commits_nothing(fresh_db):
    with read_transaction() as session:
        session.execute(text("CREATE TABLE should_not_exist (x int)"))
    with read_transaction() as session, pytest.raises((DBAPIError, InternalError)):
        session.execute(text("SELECT * FROM should_not_exist"))
