"""What the office and triage desks read about one report, and the bulk moves.

The detail is for the people who work on the report: the whole timeline with the actors and the
internal notes, the routing reason, the moves the server allows (`actions`, from workflow.py), the
open reports nearby that it may duplicate, and for triage the candidate districts and offices (from
routing/rule.py: the same rule that routes reports).
"""

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from mapapp import routing
from mapapp.accounts.models import User
from mapapp.core import status as report_status
from mapapp.core.actors import Actor, Forbidden
from mapapp.core.errors import DomainError, InvalidInput
from mapapp.core.settings import get_settings
from mapapp.jurisdictions import places
from mapapp.offices import workflow
from mapapp.offices.models import Office
from mapapp.reports.models import Report
from mapapp.reports.service import ReportNotFound
from mapapp.routing import rule

MEDIA = "/media/"
DUPLICATE_RADIUS_M = 300.0
NEIGHBOUR_DEGREES = 0.0005  # districts this close to the point's district count as its neighbours (~50 m)
BULK_ACTIONS = ("acknowledge", "assign", "close")
MAX_BULK = 200

DETAIL_SQL = text(
    f"""
    SELECT r.id AS report_id, r.public_id AS id, r.status, r.close_reason, r.channel, r.description,
           r.created_at, r.updated_at, r.resolved_at, r.support_count AS supporters, r.address,
           r.location_precision, r.location_flag, r.office_id,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon,
           c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en, c.response_hours,
           {report_status.due_at_sql("r", "c")} AS due_at, {report_status.overdue_sql("r", "c")} AS overdue,
           l.slug AS layer, o.slug AS office, o.name_ko AS office_ko, o.name_en AS office_en,
           u.email AS assignee, d.code AS district_code, {places.REPORT_PLACE_COLUMNS},
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(d.geom, 0.0001), 6)::json AS district_outline,
           (SELECT coalesce(json_agg(json_build_object(
                'kind', p.kind, 'url', :media || p.display_key, 'thumbnail', :media || p.thumb_key,
                'width', p.width, 'height', p.height) ORDER BY p.kind DESC, p.position), '[]'::json)
            FROM photos p WHERE p.report_id = r.id) AS photos,
           (SELECT coalesce(json_agg(x ORDER BY x.at, x.seq), '[]'::json) FROM (
                SELECT e.created_at AS at, e.id AS seq, e.kind, e.from_status AS "from", e.to_status AS "to",
                       e.actor, e.public_note, e.private_note, false AS internal
                FROM report_events e WHERE e.report_id = r.id
                UNION ALL
                SELECT n.created_at, n.id, 'note', NULL, NULL, n.author, '', n.body, true
                FROM report_notes n WHERE n.report_id = r.id) x) AS timeline,
           rd.reason_code, rd.reason_params, rd.rule, rd.manual, rd.method
    FROM reports r JOIN categories c ON c.id = r.category_id JOIN layers l ON l.id = r.layer_id
    LEFT JOIN offices o ON o.id = r.office_id
    LEFT JOIN users u ON u.id = r.assigned_to
    LEFT JOIN jurisdictions d ON d.id = r.district_id
    {places.REPORT_PLACE_JOINS}
    LEFT JOIN LATERAL (SELECT reason_code, reason_params, rule, manual, method FROM routing_decisions
                       WHERE report_id = r.id ORDER BY id DESC LIMIT 1) rd ON true
    WHERE r.public_id = :pid
    """  # noqa: S608 - fixed fragments, values bound
)

NEARBY_SQL = text(
    f"""
    SELECT r.public_id AS id, r.status, c.name_ko AS category_ko, c.name_en AS category_en,
           ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon, left(r.description, 120) AS description, r.created_at,
           round(ST_Distance(r.geom::geography, me.geom::geography)::numeric, 1)::float AS distance_m
    FROM reports me, reports r JOIN categories c ON c.id = r.category_id
    WHERE me.id = :report AND r.id <> me.id AND r.office_id = :office
      AND {report_status.open_sql("r.status")}
      AND ST_DWithin(r.geom, me.geom, :deg)
      AND ST_Distance(r.geom::geography, me.geom::geography) <= :radius
    ORDER BY distance_m LIMIT 20
    """  # noqa: S608 - fixed fragments, values bound
)

# The districts a triage item may belong to (the one holding the point, else the nearest, and their
# neighbours), each with the office the category's rule names there: routing/rule.py's own fragments.
CANDIDATES_SQL = text(
    f"""
    WITH pt AS (SELECT r.geom AS g, r.category_id FROM reports r WHERE r.id = :report),
    home AS (
        SELECT coalesce(({rule.part_containing_sql("district", "pt.g")}),
                        (SELECT n.jurisdiction_id FROM ({rule.nearest_district_sql("pt.g", ":deg")}) n)) AS id
        FROM pt
    ),
    districts AS (
        SELECT j.id, j.code, j.name_ko, j.name_en, j.parent_id,
               CASE WHEN j.id = home.id THEN 0 ELSE 1 END AS rank,
               round(ST_Distance(j.geom::geography, pt.g::geography)::numeric)::float AS distance_m
        FROM jurisdictions j, home, pt
        WHERE j.level = 'district' AND j.retired_at IS NULL AND j.geom IS NOT NULL
          AND (j.id = home.id OR ST_DWithin(j.geom, (SELECT h.geom FROM jurisdictions h WHERE h.id = home.id),
                                            {NEIGHBOUR_DEGREES})
               OR (home.id IS NULL AND ST_DWithin(j.geom, pt.g, :far)))
    )
    SELECT d.code, d.name_ko, d.name_en, d.rank, d.distance_m,
           o.slug AS office, o.name_ko AS office_ko, o.name_en AS office_en
    FROM districts d CROSS JOIN pt JOIN categories cat ON cat.id = pt.category_id
    LEFT JOIN offices o ON {rule.office_match_sql("o", "cat", "d.id", "d.parent_id")}
    ORDER BY d.rank, d.distance_m, d.code
    LIMIT 12
    """  # noqa: S608 - fixed fragments, values bound
)


def _report(session: Session, public_id: str) -> Report:
    report = session.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise ReportNotFound(f"there is no report {public_id!r}")
    return report


def staff_report(session: Session, *, actor: Actor, public_id: str) -> dict[str, Any]:
    """One report as the people working on it see it, with the moves they may make (`actions`)."""
    report = _report(session, public_id)
    workflow.check_can_work_on(actor, report)
    row = session.execute(DETAIL_SQL, {"pid": public_id, "media": MEDIA}).mappings().one()
    item = {k: v for k, v in row.items() if k not in ("report_id", "reason_params", "city_ko", "city_en")}
    item["place"] = places.place_of_row(row)
    item["routing"] = {
        "rule": row["rule"],
        "manual": row["manual"],
        "method": row["method"],
        "reason_code": row["reason_code"],
        "reason": {
            loc: routing.render_reason(row["reason_code"], row["reason_params"] or {}, loc) for loc in ("ko", "en")
        }
        if row["reason_code"]
        else None,
    }
    item["actions"] = workflow.allowed_actions(actor, report)
    item["nearby"] = (
        [dict(r) for r in session.execute(NEARBY_SQL, _radius(report.id, report.office_id, row["lat"])).mappings()]
        if report.office_id is not None
        else []
    )
    item["candidates"] = candidates(session, report_id=report.id, lat=row["lat"]) if report.status == "triage" else []
    return item


def _radius(report_id: int, office_id: int | None, lat: float) -> dict[str, Any]:
    return {
        "report": report_id,
        "office": office_id,
        "radius": DUPLICATE_RADIUS_M,
        "deg": routing.tolerance_degrees(DUPLICATE_RADIUS_M, lat),
    }


def candidates(session: Session, *, report_id: int, lat: float) -> list[dict[str, Any]]:
    """The districts a triage report may belong to and the office the category's rule names in each."""
    tolerance = get_settings().gap_tolerance_m
    rows = session.execute(
        CANDIDATES_SQL,
        {
            "report": report_id,
            "deg": routing.tolerance_degrees(tolerance, lat),
            "far": routing.tolerance_degrees(5000, lat),  # outside every district: those within 5 km
        },
    ).mappings()
    return [
        {
            "district": {"code": r["code"], "name": {"ko": r["name_ko"], "en": r["name_en"]}},
            "relation": "holds_point"
            if r["rank"] == 0 and r["distance_m"] == 0
            else ("nearest" if r["rank"] == 0 else "neighbour"),
            "distance_m": r["distance_m"],
            "office": {"slug": r["office"], "name": {"ko": r["office_ko"], "en": r["office_en"]}}
            if r["office"]
            else None,
        }
        for r in rows
    ]


def _relation(rank: int, distance_m: float) -> str:
    if rank:
        return "neighbour"
    return "holds_point" if not distance_m else "nearest"


def office_staff(session: Session, *, actor: Actor, office_slug: str) -> list[dict[str, Any]]:
    """The active people of an office, for the assign picker: its own people and administrators only."""
    office = session.scalar(select(Office).where(Office.slug == office_slug))
    if office is None:
        raise InvalidInput(f"there is no office {office_slug!r}", field="office")
    if not (actor.is_admin or (actor.role in ("manager", "staff") and actor.office_id == office.id)):
        raise Forbidden("this is another office's staff")
    people = session.scalars(
        select(User).where(User.office_id == office.id, User.active.is_(True)).order_by(User.name, User.email)
    )
    return [{"email": u.email, "name": u.name, "role": u.role} for u in people]


def open_offices(session: Session, *, actor: Actor) -> list[dict[str, Any]]:
    """Every open office, for the transfer and routing pickers (any logged-in staff member)."""
    if actor.role not in ("admin", "triage", "manager", "staff"):
        raise Forbidden("staff only")
    rows = session.execute(
        text(
            "SELECT o.slug, o.name_ko, o.name_en, o.department, j.code AS jurisdiction, j.level "
            "FROM offices o JOIN jurisdictions j ON j.id = o.jurisdiction_id WHERE o.active ORDER BY j.code, o.slug"
        )
    ).mappings()
    return [dict(r) for r in rows]


def bulk(
    session: Session,
    *,
    actor: Actor,
    ids: list[str],
    action: str,
    assignee: str | None = None,
    reason: str | None = None,
    public_note: str = "",
) -> list[dict[str, Any]]:
    """One move on many reports; each succeeds or fails on its own (a savepoint each), and says which."""
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"bulk action must be one of {', '.join(BULK_ACTIONS)}", field="action")
    if not ids or len(ids) > MAX_BULK:
        raise InvalidInput(f"choose between 1 and {MAX_BULK} reports", field="ids")
    to = workflow.ACTIONS[action]
    assert to is not None
    results = []
    for public_id in dict.fromkeys(ids):
        try:
            with session.begin_nested():
                report = workflow.change_status(
                    session,
                    actor=actor,
                    public_id=public_id,
                    to=to,
                    public_note=public_note,
                    assignee_email=assignee,
                    close_reason=reason,
                )
                results.append({"id": public_id, "status": report.status, "ok": True})
        except DomainError as error:
            results.append({"id": public_id, "ok": False, "error": error.to_body()["error"]})
    return results
