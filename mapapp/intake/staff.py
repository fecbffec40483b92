"""What staff see of a channel message, the triage decision on it, and decisions exported as labelled examples."""

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp import routing
from mapapp.core import visibility
from mapapp.core.actors import Actor, Forbidden
from mapapp.core.errors import InvalidInput, NotFound
from mapapp.intake.models import IntakeDecision
from mapapp.layers.service import LayerInactive, get_category_or_raise
from mapapp.layers.state import effective_state_sql
from mapapp.offices import workflow
from mapapp.reports.models import Report, ReportEvent


class IntakeMessageNotFound(NotFound):
    code = "intake_message_not_found"


INTAKE_SQL = text(
    f"""
    SELECT m.id, c.name AS channel, c.public_handles, m.external_id, m.account, m.author_handle, m.text, m.lang,
           m.posted_at, m.outcome, m.category, m.layer, m.confidence, m.evidence, m.candidates, m.places,
           m.precision, r.id AS report_id, r.status, r.office_id, {visibility.report_public_sql("r")} AS public
    FROM intake_messages m
    JOIN intake_channels c ON c.id = m.channel_id
    JOIN reports r ON r.id = m.report_id
    WHERE r.public_id = :public_id
    ORDER BY m.id LIMIT 1
    """  # noqa: S608 - the shared visibility rule; values bound
)


def _shape(row: Any) -> dict[str, Any]:
    return {
        "channel": row.channel,
        "external_id": row.external_id,
        "account": row.account,
        "author": row.author_handle,
        "text": row.text,
        "lang": row.lang,
        "posted_at": row.posted_at.isoformat(),
        "outcome": row.outcome,
        "category": row.category,
        "confidence": row.confidence,
        "evidence": row.evidence,
        "candidates": row.candidates,
        "places": row.places,
        "precision": row.precision,
    }


def _can_see(actor: Actor, row: Any) -> None:
    if actor.is_admin or actor.role == "triage":
        return
    if actor.role in ("manager", "staff") and row.office_id is not None and row.office_id == actor.office_id:
        return
    raise Forbidden("this report is not in your queue")


def intake_for_report(session: Session, *, actor: Actor, public_id: str) -> dict[str, Any] | None:
    """The `intake` object of a report's detail for staff (None: the report did not come from a channel)."""
    row = session.execute(INTAKE_SQL, {"public_id": public_id}).first()
    if row is None:
        exists = session.scalar(select(Report.id).where(Report.public_id == public_id))
        if exists is None:
            raise IntakeMessageNotFound(f"there is no report {public_id!r}")
        return None
    _can_see(actor, row)
    return _shape(row)


def public_channel(session: Session, *, public_id: str) -> dict[str, Any] | None:
    """What the public sees of a report's channel: its name, and the author's handle only on a public channel."""
    row = session.execute(INTAKE_SQL, {"public_id": public_id}).first()
    if row is None or not row.public:  # hidden by moderation: as if there were no such report
        return None
    return {"channel": row.channel, "author": row.author_handle if row.public_handles and row.author_handle else None}


TRIAGE_SQL = text(
    """
    SELECT r.public_id AS id, c.name AS channel, c.public_handles, m.external_id, m.account, m.author_handle, m.text,
           m.lang, m.posted_at, m.outcome, m.category, m.layer, m.confidence, m.evidence, m.candidates, m.places,
           m.precision
    FROM reports r
    JOIN intake_messages m ON m.report_id = r.id
    JOIN intake_channels c ON c.id = m.channel_id
    WHERE r.status = 'triage'
    ORDER BY r.created_at, r.id
    LIMIT :limit
    """
)


def triage_messages(session: Session, *, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
    """Channel reports waiting in triage, oldest first, each with what the machine read."""
    if actor.role not in ("admin", "triage"):
        raise Forbidden("only triage staff see the triage queue")
    return [{"id": row.id, "intake": _shape(row)} for row in session.execute(TRIAGE_SQL, {"limit": limit})]


NO_PROBLEM_SQL = text(
    """
    SELECT m.id, c.name AS channel, c.public_handles, m.external_id, m.account, m.author_handle, m.text, m.lang,
           m.posted_at, m.outcome, m.category, m.layer, m.confidence, m.evidence, m.candidates, m.places,
           m.precision
    FROM intake_messages m JOIN intake_channels c ON c.id = m.channel_id
    WHERE m.outcome = 'no_problem' AND m.report_id IS NULL AND m.received_at >= now() - make_interval(days => :days)
    ORDER BY m.received_at DESC, m.id DESC
    LIMIT :limit
    """
)


def unreported_messages(session: Session, *, actor: Actor, days: int = 7, limit: int = 200) -> list[dict[str, Any]]:
    """Messages read as "no problem" (no report made), newest first, so a person can catch a miss."""
    if actor.role not in ("admin", "triage"):
        raise Forbidden("only triage staff see the messages that made no report")
    return [
        {"message": row.id, "intake": _shape(row)}
        for row in session.execute(NO_PROBLEM_SQL, {"days": days, "limit": limit})
    ]


AREA_SQL = text(
    """
    SELECT j.id, j.level, j.parent_id, ST_X(ST_PointOnSurface(j.geom)) AS lon, ST_Y(ST_PointOnSurface(j.geom)) AS lat
    FROM jurisdictions j WHERE j.code = :code AND j.level = :level AND j.retired_at IS NULL
    """
)


def decide(
    session: Session,
    *,
    actor: Actor,
    public_id: str,
    category: str | None,
    district: str | None = None,
    dong: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    """A person's decision on a triage message: its category and place (then routed), or "no problem" (closed).

    The decision is kept with the message, for `mapapp intake export-decisions`; the routing is the
    routing rule's, recorded as manual like every triage routing.
    """
    if actor.role not in ("admin", "triage"):
        raise Forbidden("only triage staff decide on triage reports")
    row = session.execute(INTAKE_SQL, {"public_id": public_id}).first()
    if row is None:
        raise IntakeMessageNotFound(f"report {public_id!r} did not come from a channel message")
    report = session.scalar(select(Report).where(Report.public_id == public_id).with_for_update())
    if report is None or report.status != "triage":
        raise workflow.TransitionNotAllowed(
            "only reports in triage are decided here", status=report.status if report else None, allowed=[]
        )
    if category is None:
        session.add(IntakeDecision(message_id=row.id, category=None, decided_by=actor.email))
        report.status, report.close_reason = "closed", "cannot_fix"
        report.updated_at = text("now()")  # type: ignore[assignment]
        session.add(
            ReportEvent(
                report_id=report.id,
                kind="status_changed",
                from_status="triage",
                to_status="closed",
                actor=actor.email,
                public_note="메시지에 고칠 문제가 없습니다 / The message reports nothing to fix",
                private_note=note,
            )
        )
        session.execute(text("UPDATE intake_messages SET outcome = 'no_problem' WHERE id = :id"), {"id": row.id})
        session.flush()
        return {"id": public_id, "status": "closed", "office": None}
    chosen = get_category_or_raise(session, slug=category)
    state = session.execute(
        text(f"SELECT {effective_state_sql('l')} FROM layers l WHERE l.id = :id"),  # noqa: S608 - the state's fragment
        {"id": chosen.layer_id},
    ).scalar_one()
    if state != "active":
        raise LayerInactive(f"the layer of {category!r} is not taking reports now", field="category")
    area = None
    if dong:
        area = session.execute(AREA_SQL, {"code": dong, "level": "dong"}).first()
    elif district:
        area = session.execute(AREA_SQL, {"code": district, "level": "district"}).first()
    if (dong or district) and area is None:
        raise InvalidInput(f"there is no current {'dong' if dong else 'district'} {dong or district!r}", field="place")
    if area is None and row.precision == "none":
        raise InvalidInput("the message names no place: choose its district or dong", field="place")
    if area is not None:
        report.geom = text(f"ST_SetSRID(ST_MakePoint({float(area.lon)!r}, {float(area.lat)!r}), 4326)")
        report.location_precision = area.level
        report.location_source = "address"
        report.dong_id = area.id if area.level == "dong" else None
    session.flush()
    lon, lat = session.execute(
        text("SELECT ST_X(geom), ST_Y(geom) FROM reports WHERE id = :id"), {"id": report.id}
    ).one()
    decision = routing.route(session, lon=lon, lat=lat, category=chosen.slug)
    district_ref, city_ref = decision.jurisdiction("district"), decision.jurisdiction("city")
    report.category_id, report.layer_id = chosen.id, chosen.layer_id
    report.district_id = district_ref.id if district_ref else None
    report.city_id = city_ref.id if city_ref else None
    session.add(
        IntakeDecision(
            message_id=row.id,
            category=chosen.slug,
            district_code=district_ref.code if district_ref else None,
            dong_code=dong,
            decided_by=actor.email,
        )
    )
    session.flush()
    if decision.office is None:
        return {"id": public_id, "status": "triage", "office": None, "reason": decision.reason("en")}
    why = note.strip() or f"decided from the message: {chosen.slug}"
    moved = workflow.route_from_triage(
        session, actor=actor, public_id=public_id, to_office=decision.office.slug, note=why
    )
    return {"id": public_id, "status": moved.status, "office": decision.office.slug}


# A message's decisions: those made on it (intake_decisions), and the triage desk's routing of its report to an
# office by hand ("routed by ..." in workflow._reassign), read as the report's category in the office's district
# (else the report's). The latest wins; at the same instant (a decision routes the report) the message's own.
EXPORT_SQL = text(
    """
    WITH decided AS (
        SELECT d.message_id, d.category, d.district_code, d.decided_at, 0 AS kind, d.id
        FROM intake_decisions d
        UNION ALL
        SELECT m.id, cat.slug, coalesce(CASE WHEN oj.level = 'district' THEN oj.code END, rj.code), rd.decided_at,
               1, rd.id
        FROM routing_decisions rd
        JOIN intake_messages m ON m.report_id = rd.report_id
        JOIN reports r ON r.id = rd.report_id
        JOIN categories cat ON cat.id = r.category_id
        LEFT JOIN offices o ON o.id = rd.office_id
        LEFT JOIN jurisdictions oj ON oj.id = o.jurisdiction_id
        LEFT JOIN jurisdictions rj ON rj.id = rd.district_id
        WHERE rd.manual AND rd.office_id IS NOT NULL AND rd.rule LIKE 'routed by %'
    )
    SELECT DISTINCT ON (d.message_id) m.text, m.lang, d.category, d.district_code, d.decided_at, c.name AS channel
    FROM decided d
    JOIN intake_messages m ON m.id = d.message_id
    JOIN intake_channels c ON c.id = m.channel_id
    ORDER BY d.message_id, d.decided_at DESC, d.kind, d.id DESC
    """
)


def export_decisions(session: Session) -> Iterator[str]:
    """Each message's latest decision as a JSON line in the labelled set's shape (the classifier can learn from it)."""
    for row in session.execute(EXPORT_SQL):
        yield json.dumps(
            {
                "text": row.text,
                "lang": row.lang,
                "category": row.category,
                "categories": [row.category] if row.category else [],
                "district": row.district_code,
                "source": f"triage:{row.channel}",
                "decided_at": row.decided_at.isoformat(),
            },
            ensure_ascii=False,
        )
