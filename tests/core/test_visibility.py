"""The public-visibility rule says the same in Python and in SQL, over every combination of its inputs."""
# ruff: noqa: S608 - the SQL is the rule under test, built from constants; values are bound

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from mapapp.core import visibility

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
TIMES = (None, NOW - timedelta(days=1), NOW + timedelta(days=1))


def test_photo_rule_python_equals_sql(session):
    cases = list(itertools.product(("before", "after"), (None, NOW), (None, NOW), TIMES))
    seen = set()
    for kind, hidden, approved, since in cases:
        params = {"kind": kind, "hidden": hidden, "approved": approved, "created": NOW, "since": since}
        sql_public, sql_held = session.execute(
            text(
                f"SELECT {visibility.photo_public_sql('p', 'c')}, {visibility.photo_held_sql('p', 'c')} FROM "
                "(SELECT CAST(:kind AS text) AS kind, CAST(:hidden AS timestamptz) AS hidden_at,"
                " CAST(:approved AS timestamptz) AS approved_at, CAST(:created AS timestamptz) AS created_at) p,"
                " (SELECT CAST(:since AS timestamptz) AS photo_approval_since) c"
            ),
            params,
        ).one()
        python = visibility.photo_public(
            kind=kind, hidden_at=hidden, approved_at=approved, created_at=NOW, approval_since=since
        )
        assert sql_public == python, params
        assert sql_held == (hidden is None and not python), params  # held: not public for want of approval only
        seen.add(python)
    assert seen == {True, False}


def test_report_and_event_rules_python_equal_sql(session):
    for hidden in (None, NOW):
        got = session.execute(
            text(f"SELECT {visibility.report_public_sql('r')} FROM (SELECT CAST(:h AS timestamptz) AS hidden_at) r"),
            {"h": hidden},
        ).scalar_one()
        assert got == visibility.report_public(hidden_at=hidden)
    for kind in (*visibility.MODERATION_EVENTS, "submitted", "routed", "status_changed"):
        got = session.execute(
            text(f"SELECT {visibility.event_public_sql('e')} FROM (SELECT CAST(:k AS text) AS kind) e"), {"k": kind}
        ).scalar_one()
        assert got == visibility.event_public(kind)
