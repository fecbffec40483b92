"""A report's response target in public: "usually within 3 days", and whether it was met.

The due time is core.status.due_at_sql, the one Open311's expected_datetime and the office queue use.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import status as report_status
from mapapp.core import visibility
from mapapp.stats import words

TARGET_SQL = f"""
    SELECT c.response_hours, {report_status.due_at_sql("r", "c")} AS due_at, r.status, r.resolved_at, now() AS now
    FROM reports r JOIN categories c ON c.id = r.category_id
    WHERE r.public_id = :pid AND {visibility.report_public_sql("r")}
"""  # noqa: S608 - fixed text; values bound


def target_state(status: str, due_at: datetime, resolved_at: datetime | None, now: datetime) -> str:
    """met, missed (resolved late), closed (without a fix), overdue (open, past due) or due (open, not yet)."""
    if status == "resolved":
        return "met" if resolved_at is not None and resolved_at <= due_at else "missed"
    if not report_status.is_open(status):
        return "closed"
    return "overdue" if now > due_at else "due"


def report_target(session: Session, *, public_id: str, locale: str) -> dict[str, Any] | None:
    """The target of one report in words, with its due time and its state; None when there is no such report."""
    row = session.execute(text(TARGET_SQL), {"pid": public_id}).mappings().first()
    if row is None:
        return None
    w = words.words(locale)
    state = target_state(row["status"], row["due_at"], row["resolved_at"], row["now"])
    return {
        "title": w["target"],
        "usually": w["target_usually"].format(n=words.hours_text(row["response_hours"], locale)),
        "due_at": row["due_at"],
        "due_label": w["target_due"],
        "state": state,
        "state_text": {"due": "", "met": w["target_met"], "missed": w["target_missed"],
                       "overdue": w["target_overdue"], "closed": w["target_closed"]}[state],
    }  # fmt: skip
