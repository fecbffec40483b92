"""Moderation moves, each recorded as a staff-only timeline event. What the public then sees is decided by
mapapp.core.visibility, which every public read applies."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp.core import visibility
from mapapp.core.actors import Actor, Forbidden
from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.core.settings import get_settings
from mapapp.layers.models import Category
from mapapp.photos.models import Photo
from mapapp.reports.models import Report, ReportEvent
from mapapp.reports.queries import MEDIA
from mapapp.reports.service import DescriptionTooLong, ReportNotFound

REASON_MAX = 2000


def check_can_moderate(actor: Actor, report: Report) -> None:
    """Administrators and the triage team moderate everything; office people their office's reports."""
    if actor.role in ("admin", "triage"):
        return
    if actor.role in ("manager", "staff") and report.office_id is not None and report.office_id == actor.office_id:
        return
    raise Forbidden("this report is not your office's to moderate")


def _report(session: Session, actor: Actor, public_id: str) -> Report:
    report = session.scalar(select(Report).where(Report.public_id == public_id).with_for_update())
    if report is None:
        raise ReportNotFound(f"there is no report {public_id!r}")
    check_can_moderate(actor, report)
    return report


def _photo(session: Session, actor: Actor, photo_id: int) -> tuple[Photo, Report]:
    photo = session.get(Photo, photo_id, with_for_update=True)
    if photo is None:
        raise NotFound(f"there is no photo {photo_id}", photo=photo_id)
    report = session.get(Report, photo.report_id)
    assert report is not None  # photos.report_id is a foreign key
    check_can_moderate(actor, report)
    return photo, report


def _reason(reason: str | None, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput("say why (staff see the reason; the public does not)", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"the reason is longer than {REASON_MAX} characters", field="reason")
    return reason


def _record(session: Session, report: Report, actor: Actor, kind: str, private_note: str) -> None:
    # The report changed for the public (its map point, thumbnail or text): a new updated_at also gives
    # its layer's tiles a new version (the tile triggers), so no cached tile shows the old state.
    report.updated_at = datetime.now(UTC)
    session.add(
        ReportEvent(
            report_id=report.id,
            kind=kind,
            from_status=report.status,
            to_status=report.status,
            actor=actor.email,
            public_note="",
            private_note=private_note,
        )
    )
    session.flush()


def hide_report(session: Session, *, actor: Actor, public_id: str, reason: str) -> Report:
    """Take a report off every public read (map, page, feeds, Open311); staff still see and work on it."""
    report = _report(session, actor, public_id)
    reason = _reason(reason, required=True)
    if not visibility.report_public(hidden_at=report.hidden_at):
        raise Conflict("the report is hidden already")
    report.hidden_at, report.hidden_reason = datetime.now(UTC), reason
    _record(session, report, actor, "report_hidden", reason)
    return report


def unhide_report(session: Session, *, actor: Actor, public_id: str, reason: str = "") -> Report:
    """Show a hidden report to the public again."""
    report = _report(session, actor, public_id)
    if visibility.report_public(hidden_at=report.hidden_at):
        raise Conflict("the report is not hidden")
    report.hidden_at, report.hidden_reason = None, None
    _record(session, report, actor, "report_unhidden", _reason(reason, required=False))
    return report


def hide_photo(session: Session, *, actor: Actor, photo_id: int, reason: str) -> Photo:
    """Take one photo off the public report (a face, a number plate, something abusive)."""
    photo, report = _photo(session, actor, photo_id)
    reason = _reason(reason, required=True)
    if photo.hidden_at is not None:
        raise Conflict("the photo is hidden already")
    photo.hidden_at, photo.hidden_reason = datetime.now(UTC), reason
    _record(session, report, actor, "photo_hidden", f"photo {photo.id}: {reason}")
    return photo


def unhide_photo(session: Session, *, actor: Actor, photo_id: int, reason: str = "") -> Photo:
    """Show a hidden photo again (a held one still waits for approval)."""
    photo, report = _photo(session, actor, photo_id)
    if photo.hidden_at is None:
        raise Conflict("the photo is not hidden")
    photo.hidden_at, photo.hidden_reason = None, None
    _record(session, report, actor, "photo_unhidden", f"photo {photo.id}: {_reason(reason, required=False)}")
    return photo


def approve_photo(session: Session, *, actor: Actor, photo_id: int) -> Photo:
    """Let the public see a photo its category held back for approval."""
    photo, report = _photo(session, actor, photo_id)
    since = session.scalar(select(Category.photo_approval_since).where(Category.id == report.category_id))
    waiting = photo.hidden_at is None and not visibility.photo_public(
        kind=photo.kind,
        hidden_at=None,
        approved_at=photo.approved_at,
        created_at=photo.created_at,
        approval_since=since,
    )
    if not waiting:
        raise Conflict("the photo is not waiting for approval (approved already, hidden, or never held)")
    photo.approved_at, photo.approved_by = datetime.now(UTC), actor.email
    _record(session, report, actor, "photo_approved", f"photo {photo.id}")
    return photo


def edit_description(session: Session, *, actor: Actor, public_id: str, description: str, reason: str = "") -> Report:
    """Replace the public description (a phone number, a name, abuse); the citizen's original is kept privately."""
    report = _report(session, actor, public_id)
    description = description.strip()
    limit = get_settings().description_max_chars
    if len(description) > limit:
        raise DescriptionTooLong(f"the description has {len(description):,} characters; at most {limit:,}")
    if description == report.description:
        raise Conflict("the description is unchanged")
    if report.original_description is None:
        report.original_description = report.description
    previous, report.description = report.description, description
    note = _reason(reason, required=False)
    _record(session, report, actor, "description_edited", (note + "\n" if note else "") + f"was: {previous}")
    return report


_STAFF_VIEW = text(
    f"""
    SELECT r.public_id AS id, r.status, r.description, r.original_description, r.hidden_at, r.hidden_reason,
           r.office_id, c.slug AS category, json_build_object('ko', c.name_ko, 'en', c.name_en) AS category_name,
           o.slug AS office, {visibility.report_public_sql("r")} AS public,
           (SELECT coalesce(json_agg(json_build_object(
                'id', p.id, 'kind', p.kind, 'url', :media || p.display_key, 'thumbnail', :media || p.thumb_key,
                'hidden_at', p.hidden_at, 'hidden_reason', p.hidden_reason, 'approved_at', p.approved_at,
                'held', {visibility.photo_held_sql("p", "c")}, 'public', {visibility.photo_public_sql("p", "c")}
            ) ORDER BY p.kind DESC, p.position), '[]'::json) FROM photos p WHERE p.report_id = r.id) AS photos,
           (SELECT coalesce(json_agg(json_build_object('kind', e.kind, 'actor', e.actor, 'note', e.private_note,
                                                       'at', e.created_at) ORDER BY e.created_at, e.id), '[]'::json)
            FROM report_events e WHERE e.report_id = r.id AND NOT {visibility.event_public_sql("e")}) AS moderation
    FROM reports r JOIN categories c ON c.id = r.category_id LEFT JOIN offices o ON o.id = r.office_id
    WHERE r.public_id = :pid
    """  # noqa: S608 - fixed SQL, values bound
)


def staff_view(session: Session, *, actor: Actor, public_id: str) -> dict[str, Any]:
    """A report as moderators see it: every photo with its state, both descriptions, the moderation log."""
    row = session.execute(_STAFF_VIEW, {"pid": public_id, "media": MEDIA}).mappings().first()
    if row is None:
        raise ReportNotFound(f"there is no report {public_id!r}")
    if actor.role not in ("admin", "triage") and (row["office_id"] is None or row["office_id"] != actor.office_id):
        raise Forbidden("this report is not your office's to moderate")
    out = dict(row)
    out.pop("office_id")
    return out


_WAITING = text(
    f"""
    SELECT r.public_id AS id, json_build_object('ko', c.name_ko, 'en', c.name_en) AS category_name,
           p.id AS photo_id, :media || p.thumb_key AS thumbnail, p.created_at AS at,
           CASE WHEN r.hidden_at IS NOT NULL THEN 'report_hidden'
                WHEN p.hidden_at IS NOT NULL THEN 'photo_hidden' ELSE 'photo_held' END AS state
    FROM reports r JOIN categories c ON c.id = r.category_id
    LEFT JOIN photos p ON p.report_id = r.id
         AND (p.hidden_at IS NOT NULL OR {visibility.photo_held_sql("p", "c")})
    WHERE (r.hidden_at IS NOT NULL OR p.id IS NOT NULL)
      AND (CAST(:office AS integer) IS NULL OR r.office_id = :office)
    ORDER BY (p.id IS NOT NULL AND p.hidden_at IS NULL AND r.hidden_at IS NULL) DESC,
             coalesce(p.created_at, r.hidden_at)
    LIMIT 200
    """  # noqa: S608 - fixed SQL, values bound
)


def worklist(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    """Photos waiting for approval first, then what is hidden: everything for the city, an office's own for it."""
    if actor.role in ("admin", "triage"):
        office = None
    elif actor.role in ("manager", "staff") and actor.office_id is not None:
        office = actor.office_id
    else:
        raise Forbidden("moderation is for staff")
    return [dict(r) for r in session.execute(_WAITING, {"media": MEDIA, "office": office}).mappings()]
