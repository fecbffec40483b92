"""A layer's effective state: the Python rule and its SQL fragment give the same answer."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from mapapp.layers.state import effective_state, effective_state_sql

HOUR = timedelta(hours=1)


@pytest.mark.parametrize("state", ["active", "inactive", "archived"])
@pytest.mark.parametrize("until", [None, -HOUR, HOUR])
def test_python_and_sql_agree(session, state, until):
    now = session.execute(text("SELECT now()")).scalar_one()
    active_until = None if until is None else now + until
    sql = session.execute(
        text(
            f"SELECT {effective_state_sql('l')} FROM (SELECT CAST(:s AS text) AS state, "  # noqa: S608
            "CAST(:u AS timestamptz) AS active_until) l"
        ),
        {"s": state, "u": active_until},
    ).scalar_one()
    assert sql == effective_state(state, active_until, now)
    expected = "inactive" if state == "active" and until == -HOUR else state
    assert sql == expected


def test_an_active_layer_closes_at_its_end_time():
    end = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert effective_state("active", end, end - timedelta(seconds=1)) == "active"
    assert effective_state("active", end, end) == "inactive"
