"""The report statuses and their sets, each written once, with the SQL fragments rendered from them.

In core, not in reports: routing (which never imports reports), offices, Open311 and the pages all
ask "is this report open?" and "which group does the map colour it as?", and must get one answer.
"""

STATUSES = (
    "submitted",
    "routed",
    "triage",
    "acknowledged",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "reopened",
)
# Finished: no office works on it any more, no "me too", never overdue, Open311 "closed".
CLOSED = ("resolved", "closed")
OPEN = tuple(s for s in STATUSES if s not in CLOSED)
# No office has taken it yet: routing may still decide (or decide again) where it goes.
AWAITING_OFFICE = ("submitted", "triage")
# Re-routing may move these when boundaries or offices change: nobody in an office has acted on them.
REROUTABLE = ("submitted", "routed", "triage")

# The public groups the map colours reports by, in legend order; every status is in exactly one.
GROUPS: dict[str, tuple[str, ...]] = {
    "open": ("submitted", "routed", "triage", "acknowledged", "reopened"),
    "in_progress": ("assigned", "in_progress"),
    "resolved": ("resolved",),
    "closed": ("closed",),
}
# The groups drawn as finished (faded, hidden when old) on the map.
CLOSED_GROUPS = tuple(g for g, members in GROUPS.items() if set(members) <= set(CLOSED))


def is_open(status: str) -> bool:
    """Whether a report in this status is still being worked on."""
    return status not in CLOSED


def group_of(status: str) -> str:
    """The public group (open, in_progress, resolved, closed) a workflow status is shown as."""
    return next(group for group, members in GROUPS.items() if status in members)


def _literals(values: tuple[str, ...]) -> str:
    # Only our own constant names reach this: they are checked to be plain identifiers.
    assert all(v.isidentifier() for v in values), values
    return ", ".join(f"'{v}'" for v in values)


def in_sql(column: str, values: tuple[str, ...]) -> str:
    """`column IN ('a', 'b')` for one of the sets above (constants, so the planner sees them)."""
    return f"{column} IN ({_literals(values)})"


def is_sql(column: str, value: str) -> str:
    """`column = 'value'` for one status, checked to be a real one (a typo fails at import, not silently)."""
    assert value in STATUSES, value
    return f"{column} = '{value}'"


def not_in_sql(column: str, values: tuple[str, ...]) -> str:
    """`column NOT IN ('a', 'b')` for one of the sets above."""
    return f"{column} NOT IN ({_literals(values)})"


def open_sql(column: str = "r.status") -> str:
    """The SQL test that a report is open."""
    return not_in_sql(column, CLOSED)


def group_sql(column: str = "r.status") -> str:
    """A CASE expression giving the public group of `column`, rendered from GROUPS."""
    whens = " ".join(f"WHEN {in_sql(column, members)} THEN '{group}'" for group, members in GROUPS.items())
    return f"(CASE {whens} END)"


def overdue_sql(report: str = "r", category: str = "c") -> str:
    """Open and past its category's response target: the one definition of 'overdue'."""
    return f"({open_sql(f'{report}.status')} AND {due_at_sql(report, category)} < now())"


def due_at_sql(report: str = "r", category: str = "c") -> str:
    """When a report is due: its creation time plus its category's response target in hours.

    Kept in `reports.due_at` by a trigger (migration 0013), so queues filter and sort on an index;
    `category` is accepted for the callers that still name it.
    """
    return f"{report}.due_at"
