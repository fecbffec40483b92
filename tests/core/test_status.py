"""The status vocabulary: every status in one group, the sets consistent, the SQL rendered from them."""

from sqlalchemy import text

from mapapp.core import status


def test_every_status_is_in_exactly_one_group():
    members = [s for group in status.GROUPS.values() for s in group]
    assert sorted(members) == sorted(status.STATUSES)


def test_the_sets_agree():
    assert set(status.OPEN) | set(status.CLOSED) == set(status.STATUSES)
    assert not set(status.OPEN) & set(status.CLOSED)
    assert set(status.AWAITING_OFFICE) <= set(status.REROUTABLE) <= set(status.OPEN)
    assert status.CLOSED_GROUPS == ("resolved", "closed")


def test_the_sql_fragments_answer_as_the_python_does(session):
    for value in status.STATUSES:
        row = session.execute(
            text(f"SELECT {status.group_sql('s')}, {status.open_sql('s')} FROM (SELECT CAST(:v AS text) AS s) x"),  # noqa: S608
            {"v": value},
        ).one()
        assert row == (status.group_of(value), status.is_open(value)), value
