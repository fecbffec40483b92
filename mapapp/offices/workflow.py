"""The workflow of a report, enforced here and nowhere else: who may move it, and where to.

routed → acknowledged → assigned → in_progress → resolved (needs a public answer), or closed with a
reason (duplicate of another report, cannot fix with an explanation). "Not ours" is a transfer.
Every change is an event with actor, time, from/to, a public note and a private note.
"""

import hmac
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp.accounts.models import User
from mapapp.core import status as report_status
from mapapp.core.actors import Actor, Forbidden
from mapapp.core.errors import Conflict, InvalidInput
from mapapp.core.settings import get_settings
from mapapp.notify import service as outbox
from mapapp.offices.models import Office, ReportNote
from mapapp.photos.models import Photo
from mapapp.reports import messages
from mapapp.reports.models import Report, ReportEvent, RoutingDecisionRecord
from mapapp.reports.service import ReportNotFound

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "routed": ("acknowledged", "closed"),
    "reopened": ("acknowledged", "assigned", "in_progress", "closed"),
    "acknowledged": ("assigned", "in_progress", "closed"),
    "assigned": ("in_progress", "closed"),
    "in_progress": ("resolved", "closed"),
    # Staff reopen a finished report with a reason (the citizen reopens through their link: `reopen`).
    "resolved": ("reopened",),
    "closed": ("reopened",),
    "triage": (),
    "submitted": (),
}


# How a role appears in public text (the routing rule of a report).
PUBLIC_ROLES = {
    "triage": "시 분류 담당 / the city's triage team",
    "admin": "시 관리자 / the city's administrators",
    "staff": "시 담당자 / city staff",
}


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class DuplicateInAnotherOffice(Forbidden):
    code = "duplicate_in_another_office"


class InvalidReopenToken(Forbidden):
    code = "invalid_reopen_token"


def _report(session: Session, public_id: str) -> Report:
    report = session.scalar(select(Report).where(Report.public_id == public_id).with_for_update())
    if report is None:
        raise ReportNotFound(f"there is no report {public_id!r}")
    return report


def check_can_work_on(actor: Actor, report: Report) -> None:
    """Office people work only on their office's reports; triage only on the triage queue."""
    if actor.is_admin:
        return
    if actor.role in ("manager", "staff") and report.office_id is not None and report.office_id == actor.office_id:
        return
    if actor.role == "triage" and report.status == "triage":
        return
    raise Forbidden("this report is not in your queue")


def _event(session: Session, report: Report, actor: Actor, kind: str, old: str | None, note: str, private: str) -> None:
    session.add(
        ReportEvent(
            report_id=report.id,
            kind=kind,
            from_status=old,
            to_status=report.status,
            actor=actor.email,
            public_note=note,
            private_note=private,
        )
    )


def change_status(
    session: Session,
    *,
    actor: Actor,
    public_id: str,
    to: str,
    public_note: str = "",
    private_note: str = "",
    assignee_email: str | None = None,
    close_reason: str | None = None,
    duplicate_of: str | None = None,
) -> Report:
    """Move a report along the workflow, or refuse with the moves that are allowed."""
    report = _report(session, public_id)
    check_can_work_on(actor, report)
    allowed = TRANSITIONS.get(report.status, ())
    if to not in allowed:
        raise TransitionNotAllowed(
            f"a report that is {report.status} cannot become {to}", status=report.status, allowed=list(allowed)
        )
    old = report.status
    if to == "assigned":
        if actor.role not in ("admin", "manager"):
            raise Forbidden("only the office manager assigns reports")
        staff = session.scalar(select(User).where(User.email == (assignee_email or "").lower(), User.active.is_(True)))
        if staff is None or staff.office_id != report.office_id:
            raise InvalidInput("assign to a member of this report's office", field="assignee")
        private_note = (private_note + f" assigned to {staff.email}").strip()
        report.assigned_to = staff.id
        _tell_assignee(session, report, staff.email)
    if to == "reopened" and not public_note.strip():
        raise InvalidInput("say why the report is open again", field="public_note")
    if to == "resolved" and not public_note.strip():
        raise InvalidInput("resolving needs a public answer to the citizen", field="public_note")
    if to == "closed":
        if close_reason not in ("duplicate", "cannot_fix"):
            raise InvalidInput("close as 'duplicate' or 'cannot_fix'; 'not ours' is a transfer", field="reason")
        if close_reason == "cannot_fix" and not public_note.strip():
            raise InvalidInput("closing as cannot fix needs an explanation", field="public_note")
        if close_reason == "duplicate":
            _merge_into(session, actor, report, duplicate_of)
        report.close_reason = close_reason
    report.status = to
    report.updated_at = text("now()")  # type: ignore[assignment]
    if to == "resolved":
        report.resolved_at = text("now()")  # type: ignore[assignment]
    _event(session, report, actor, "status_changed", old, public_note.strip(), private_note.strip())
    session.flush()
    # The reporter and the supporters following it hear of the move (office or role only, never a person).
    if to in ("acknowledged", "resolved"):
        messages.tell_followers(session, report_id=report.id, event=to, answer=public_note.strip())
    elif report_status.group_of(to) == "in_progress" and (
        report_status.group_of(old) != "in_progress" or public_note.strip()
    ):
        # Work has started (or the office says more): a public update, told once per step of the public status.
        messages.tell_followers(session, report_id=report.id, event="in_progress", answer=public_note.strip())
    elif to == "closed" and close_reason == "duplicate":
        original = f"{get_settings().public_base_url.rstrip('/')}/reports/{duplicate_of}"
        messages.tell_followers(session, report_id=report.id, event="duplicate", original=original)
    elif to == "closed":
        messages.tell_followers(
            session, report_id=report.id, event="closed", close_reason=close_reason, answer=public_note.strip()
        )
    elif to == "reopened":
        report.resolved_at = None
        messages.tell_followers(session, report_id=report.id, event="reopened", reason=public_note.strip())
    return report


# What the desk calls each move, and the workflow status it leads to (None: not a status change).
ACTIONS: dict[str, str | None] = {
    "acknowledge": "acknowledged",
    "assign": "assigned",
    "start": "in_progress",
    "resolve": "resolved",
    "close": "closed",
    "close_duplicate": "closed",
    "reopen": "reopened",
    "transfer": None,
    "route": None,
    "after_photo": None,
    "note": None,
}


def allowed_actions(actor: Actor, report: Report) -> list[str]:
    """The moves `actor` may make on `report` now, from TRANSITIONS and the same checks the moves run.

    The desk draws a button for each and keeps no copy of the state machine.
    """
    try:
        check_can_work_on(actor, report)
    except Forbidden:
        return []
    if report.status == "triage":
        return ["route", "note"] if actor.role in ("admin", "triage") else ["note"]
    targets = TRANSITIONS.get(report.status, ())
    found = []
    for action, to in ACTIONS.items():
        if to is not None and to in targets:
            if to == "assigned" and actor.role not in ("admin", "manager"):
                continue
            found.append(action)
    if report_status.is_open(report.status):
        found.append("transfer")
    if report.status in ("in_progress", "resolved"):
        found.append("after_photo")
    found.append("note")
    return found


def _tell_assignee(session: Session, report: Report, email: str) -> None:
    """The staff member hears they have a report to work on, in both languages (staff have no locale)."""
    url = f"{get_settings().public_base_url.rstrip('/')}/office#{report.public_id}"
    outbox.enqueue_email(
        session,
        to=email,
        subject=f"[mapapp] 담당 지정 / assigned to you: {report.public_id}",
        body=f"신고 {report.public_id}의 담당자로 지정되었습니다.\n"
        f"Report {report.public_id} is assigned to you.\n{url}\n",
    )


def add_note(session: Session, *, actor: Actor, public_id: str, body: str) -> ReportNote:
    """An internal note on a report, for the people who work on it; never public."""
    report = _report(session, public_id)
    check_can_work_on(actor, report)
    if not body.strip():
        raise InvalidInput("write the note", field="body")
    note = ReportNote(report_id=report.id, author=actor.email, body=body.strip()[:4000])
    session.add(note)
    session.flush()
    return note


def _merge_into(session: Session, actor: Actor, report: Report, original_id: str | None) -> None:
    """A duplicate's supporters (and its reporter) count for the original, which must be in the same office.

    Otherwise office staff could add supporters to (and so push up) another office's reports.
    """
    original = session.scalar(select(Report).where(Report.public_id == (original_id or "")))
    if original is None or original.id == report.id:
        raise InvalidInput("name the original report this one duplicates", field="duplicate_of")
    if not actor.is_admin and original.office_id != actor.office_id:
        raise DuplicateInAnotherOffice(
            "the original is another office's report: transfer this one to that office instead",
            field="duplicate_of",
        )
    session.execute(
        text(
            "INSERT INTO report_supporters (report_id, supporter_hash) SELECT :o, supporter_hash "
            "FROM report_supporters WHERE report_id = :d ON CONFLICT DO NOTHING"
        ),
        {"o": original.id, "d": report.id},
    )
    original.support_count = original.support_count + report.support_count + 1


def transfer(
    session: Session, *, actor: Actor, public_id: str, to_office: str | None, reason: str, private_note: str = ""
) -> Report:
    """Hand a report to another office, or back to triage (to_office None), with the reason."""
    report = _report(session, public_id)
    check_can_work_on(actor, report)
    if not report_status.is_open(report.status):
        raise TransitionNotAllowed(f"a {report.status} report is not transferred", status=report.status, allowed=[])
    if not reason.strip():
        raise InvalidInput("say why the report is transferred", field="reason")
    office = _office(session, to_office) if to_office else None
    _reassign(session, report, actor, office, reason.strip(), private_note, kind="transferred")
    return report


def route_from_triage(session: Session, *, actor: Actor, public_id: str, to_office: str, note: str = "") -> Report:
    """Triage chooses the office for a report the routing could not place; recorded as manual."""
    if actor.role not in ("admin", "triage"):
        raise Forbidden("only triage staff route reports from the triage queue")
    report = _report(session, public_id)
    if report.status != "triage":
        raise TransitionNotAllowed(
            "only reports in triage are routed by hand",
            status=report.status,
            allowed=list(TRANSITIONS.get(report.status, ())),
        )
    _reassign(session, report, actor, _office(session, to_office), note.strip(), "", kind="routed")
    return report


def acting_body(session: Session, actor: Actor) -> str:
    """Who acted, as the public may read it: the office or the role, never the person (kept privately)."""
    if actor.role in ("manager", "staff") and actor.office_id is not None:
        office = session.get(Office, actor.office_id)
        if office is not None:
            return f"{office.name_ko} / {office.name_en}"
    return PUBLIC_ROLES.get(actor.role, PUBLIC_ROLES["staff"])


def _office(session: Session, slug: str) -> Office:
    office = session.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))
    if office is None:
        raise InvalidInput(f"there is no open office {slug!r}", field="office")
    return office


def _reassign(
    session: Session, report: Report, actor: Actor, office: Office | None, reason: str, private: str, *, kind: str
) -> None:
    old = report.status
    report.office_id = office.id if office else None
    report.status = "routed" if office else "triage"
    report.routing_manual = True
    report.updated_at = text("now()")  # type: ignore[assignment]
    by_ko, _, by_en = acting_body(session, actor).partition(" / ")
    # The public reason names the office or role that decided (never the person): routing.REASONS.
    params: dict[str, Any] = {"reason": reason, "by_ko": by_ko, "by_en": by_en or by_ko}
    if office:
        params |= {"office": office.slug, "office_ko": office.name_ko, "office_en": office.name_en}
    report.assigned_to = None
    session.add(
        RoutingDecisionRecord(
            report_id=report.id,
            office_id=report.office_id,
            city_id=report.city_id,
            district_id=report.district_id,
            method="manual",
            rule=f"{kind} by {acting_body(session, actor)}",
            reason_code="manual_by" if office else "triage_by",
            reason_params=params,
            manual=True,
            decided_by=actor.email,
        )
    )
    _event(session, report, actor, kind, old, reason, private)
    session.flush()
    messages.tell_followers(session, report_id=report.id, event=kind, reason=reason)


def reopen(session: Session, *, public_id: str, token: str, reason: str) -> Report:
    """The citizen reopens a resolved report within the allowed days, with the secret of their reopen link."""
    report = _report(session, public_id)
    given = token.strip()
    stored = report.reopen_token_hash or ""
    # Compared in constant time; the answer says nothing about who filed the report.
    if not given or not stored or not hmac.compare_digest(stored, messages.token_digest(given)):
        raise InvalidReopenToken(
            "this reopen link is not valid (a newer one may have been sent); ask for a new link", field="token"
        )
    if report.status != "resolved":
        raise TransitionNotAllowed(f"a {report.status} report is not reopened", status=report.status, allowed=[])
    days = get_settings().reopen_days
    still_open = session.scalar(
        text("SELECT resolved_at > now() - make_interval(days => :d) FROM reports WHERE id = :id"),
        {"d": days, "id": report.id},
    )
    if not still_open:
        raise TransitionNotAllowed(
            f"resolved reports can be reopened for {days} days; please file a new report",
            status=report.status,
            allowed=[],
        )
    if not reason.strip():
        raise InvalidInput("say why the problem is not solved", field="reason")
    report.status = "reopened"
    report.updated_at = text("now()")  # type: ignore[assignment]
    session.add(
        ReportEvent(
            report_id=report.id,
            kind="reopened",
            from_status="resolved",
            to_status="reopened",
            actor="citizen",
            public_note=reason.strip()[:2000],
            private_note="",
        )
    )
    session.flush()
    messages.tell_followers(session, report_id=report.id, event="reopened", reason=reason.strip()[:2000])
    return report


def request_reopen_link(session: Session, *, public_id: str, contact: str) -> None:
    """E-mail a new reopen link to the report's reporter, but only if `contact` is their e-mail address.

    The caller answers the same whatever happened here, so nobody learns who filed a report. A phone
    number gets no link (there is no text-message channel); the e-mail is limited per address.
    """
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise ReportNotFound(f"there is no report {public_id!r}")
    given = contact.strip().lower().encode()
    email = (report.reporter_email or "").strip().lower().encode()
    if given and email and hmac.compare_digest(given, email):
        messages.tell_citizen(
            session,
            email=report.reporter_email,
            locale=report.locale,
            event="reopen_link",
            public_id=report.public_id,
        )


def add_after_photo(session: Session, *, actor: Actor, public_id: str, data: bytes) -> str:
    """The office's photo of the fixed problem, through the same pipeline as citizens' photos."""
    from mapapp import photos

    report = _report(session, public_id)
    check_can_work_on(actor, report)
    processed = photos.process_photo(data)
    storage = photos.get_storage()
    storage.put(processed.display_key, processed.display)
    storage.put(processed.thumbnail_key, processed.thumbnail)
    position = session.scalar(
        text("SELECT coalesce(max(position) + 1, 0) FROM photos WHERE report_id = :r AND kind = 'after'"),
        {"r": report.id},
    )
    session.add(
        Photo(
            report_id=report.id,
            position=position,
            kind="after",
            display_key=processed.display_key,
            thumb_key=processed.thumbnail_key,
            width=processed.width,
            height=processed.height,
            media_type=processed.media_type,
            original_bytes=processed.original_bytes,
            original_sha256=processed.original_sha256,
            gps_note=processed.gps_note,
        )
    )
    session.flush()
    return processed.display_key
