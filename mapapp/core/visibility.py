"""What the public may see of a report, its photos and its timeline: written once, for SQL and Python.

Staff reads (office queue, triage, moderation) see everything; every public read (report page,
GET /api/reports, nearby, tiles, Open311, the widget) adds these conditions. The SQL fragments take
the alias of the row they test; the Python functions say the same over plain values, and
tests/core/test_visibility.py checks that both agree.
"""

from datetime import datetime

# Timeline entries of moderation: for staff only (the reason may quote what was hidden).
MODERATION_EVENTS = (
    "report_hidden",
    "report_unhidden",
    "photo_hidden",
    "photo_unhidden",
    "photo_approved",
    "description_edited",
)


def report_public(*, hidden_at: datetime | None) -> bool:
    """A report is public unless staff hid it."""
    return hidden_at is None


def report_public_sql(report: str = "r") -> str:
    """`report_public` over the reports row aliased `report`."""
    return f"({report}.hidden_at IS NULL)"


def photo_public(
    *,
    kind: str,
    hidden_at: datetime | None,
    approved_at: datetime | None,
    created_at: datetime,
    approval_since: datetime | None,
) -> bool:
    """A photo is public unless hidden, or held: a citizen's photo stored while its category asked for
    approval (since `approval_since`) and not yet approved. Office 'after' photos are never held."""
    if hidden_at is not None:
        return False
    held = kind != "after" and approved_at is None and approval_since is not None and created_at >= approval_since
    return not held


def photo_public_sql(photo: str = "p", category: str = "c") -> str:
    """`photo_public` over the photos row aliased `photo` and its report's categories row `category`."""
    p, c = photo, category
    return (
        f"({p}.hidden_at IS NULL AND ({p}.kind = 'after' OR {p}.approved_at IS NOT NULL"
        f" OR {c}.photo_approval_since IS NULL OR {p}.created_at < {c}.photo_approval_since))"
    )


def photo_held_sql(photo: str = "p", category: str = "c") -> str:
    """A photo waiting for a moderator's approval (not hidden, not yet approved, held by its category)."""
    p, c = photo, category
    return (
        f"({p}.hidden_at IS NULL AND {p}.kind <> 'after' AND {p}.approved_at IS NULL"
        f" AND {c}.photo_approval_since IS NOT NULL AND {p}.created_at >= {c}.photo_approval_since)"
    )


def event_public(kind: str) -> bool:
    """Moderation entries stay out of the public timeline."""
    return kind not in MODERATION_EVENTS


def event_public_sql(event: str = "e") -> str:
    """`event_public` over the report_events row aliased `event`."""
    kinds = ", ".join(f"'{k}'" for k in MODERATION_EVENTS)
    return f"({event}.kind NOT IN ({kinds}))"
