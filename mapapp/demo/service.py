"""Seoul as a demo: its real 25 districts and 425 administrative dong (shipped, simplified, in
data/; see NOTICE), the city's and districts' offices, the layers and reports with their timelines."""

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, shape
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from mapapp import jurisdictions, routing
from mapapp.core.errors import Conflict
from mapapp.demo.offices import CITY, CITY_DIVISIONS, DISTRICT_DEPARTMENTS, MISSING_OFFICE, district_division
from mapapp.jurisdictions.models import Jurisdiction
from mapapp.layers import service as layers
from mapapp.layers.models import Category, Layer
from mapapp.layers.schemas import LayerDefinition
from mapapp.offices.models import Office
from mapapp.reports.models import Report, ReportEvent
from mapapp.reports.service import new_public_id

DEMO_SOURCE = "demo"
DATA = Path(__file__).resolve().parent / "data"

DESCRIPTIONS = [
    "지나가다 발견했습니다. 빠른 조치 부탁드립니다.",
    "밤에 특히 위험합니다.",
    "며칠째 그대로입니다.",
    "Noticed this on my way to work; please take a look.",
    "아이들이 많이 다니는 길이라 걱정됩니다.",
    "It has been like this since last week.",
    "",
]
# Where a routed report stands now, and how often (per 100).
STATUS_WEIGHTS = [
    ("routed", 25),
    ("acknowledged", 12),
    ("assigned", 10),
    ("in_progress", 13),
    ("resolved", 28),
    ("closed", 7),
    ("reopened", 5),
]
# The workflow steps that lead to each status (offices/workflow.py allows each move), and the hours
# each step typically takes after the one before: (status, least, most).
PATHS: dict[str, list[list[tuple[str, float, float]]]] = {
    "routed": [[]],
    "acknowledged": [[("acknowledged", 0.5, 30)]],
    "assigned": [[("acknowledged", 0.5, 30), ("assigned", 1, 48)]],
    "in_progress": [
        [("acknowledged", 0.5, 30), ("assigned", 1, 48), ("in_progress", 2, 72)],
        [("acknowledged", 0.5, 30), ("in_progress", 2, 72)],
    ],
    "resolved": [
        [("acknowledged", 0.5, 30), ("assigned", 1, 48), ("in_progress", 2, 72), ("resolved", 4, 240)],
        [("acknowledged", 0.5, 30), ("in_progress", 2, 72), ("resolved", 4, 120)],
    ],
    "closed": [[("closed", 1, 72)], [("acknowledged", 0.5, 30), ("closed", 2, 96)]],
    "reopened": [
        [("acknowledged", 0.5, 30), ("in_progress", 2, 72), ("resolved", 4, 120), ("reopened", 12, 240)],
    ],
}
NOTES = {
    "resolved": [
        "조치 완료했습니다. 신고해 주셔서 감사합니다.",
        "현장 확인 후 보수했습니다.",
        "Fixed on site. Thank you for reporting.",
    ],
    "cannot_fix": ["사유지 시설물로 구청이 보수할 수 없습니다. 소유자에게 안내했습니다."],
    "duplicate": ["같은 곳의 먼저 접수된 신고와 함께 처리합니다."],
    "reopened": ["아직 그대로입니다.", "It is broken again."],
}


@dataclass(frozen=True)
class Area:
    code: str
    name_ko: str
    name_en: str
    parent: str
    geom: MultiPolygon


@cache
def read_areas(name: str) -> tuple[Area, ...]:
    """The shipped boundaries: 'districts' (25 gu) or 'dong' (425 administrative dong)."""
    features = json.loads((DATA / f"{name}.geojson").read_text(encoding="utf-8"))["features"]
    return tuple(
        Area(
            f["properties"]["code"],
            f["properties"]["name_ko"],
            f["properties"]["name_en"],
            f["properties"].get("district", ""),
            MultiPolygon(shape(f["geometry"])),
        )
        for f in features
    )


@dataclass
class DemoSummary:
    districts: int
    offices: int
    reports: int
    triage: int
    dong: int = 0

    def __str__(self) -> str:
        return (
            f"{self.districts} districts, {self.dong} dong, {self.offices} offices, {self.reports} reports "
            f"({self.triage} waiting in triage)"
        )


def has_data(session: Session) -> bool:
    """Whether the database holds any jurisdiction, office or report."""
    return bool(
        session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM jurisdictions) OR EXISTS (SELECT 1 FROM offices) "
                "OR EXISTS (SELECT 1 FROM reports)"
            )
        )
    )


def load_demo(
    session: Session, *, definitions: list[LayerDefinition], reports: int = 400, seed: int = 1
) -> DemoSummary:
    """Write the demo city, offices, layers and reports; refuses a database with non-demo data."""
    foreign = session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM jurisdictions WHERE source <> :demo) "
            "OR EXISTS (SELECT 1 FROM reports WHERE channel <> 'demo')"
        ),
        {"demo": DEMO_SOURCE},
    )
    if foreign:
        raise Conflict("this database holds data that is not demo data; the demo is only loaded into a fresh database")
    if has_data(session):
        raise Conflict("demo data is already loaded")
    rng = random.Random(seed)
    now = datetime.now(UTC)  # every demo event happens before this
    layers.sync_layers(session, definitions)

    city, districts, dong = _write_jurisdictions(session)
    offices = _write_offices(session, city, districts)
    _insert_reports(session, rng, reports, now)
    routing.reroute_reports(session)
    _date_routing(session)
    triage = _advance_statuses(session, rng, now)
    return DemoSummary(len(districts), len(offices), reports, triage, dong=len(dong))


def _write_jurisdictions(session: Session) -> tuple[Jurisdiction, list[Jurisdiction], list[Jurisdiction]]:
    """The city (the union of its districts), the 25 districts and the 425 dong, with their parts."""
    district_areas, dong_areas = read_areas("districts"), read_areas("dong")
    outline = shapely.coverage_union_all([a.geom for a in district_areas])  # the districts tile the city exactly
    city = Jurisdiction(
        code=CITY[0],
        name_ko=CITY[1],
        name_en=CITY[2],
        level="city",
        geom=from_shape(MultiPolygon(shapely.get_parts(outline)), srid=4326),
        geometry_source="imported",
        source=DEMO_SOURCE,
    )
    session.add(city)
    session.flush()
    districts = [
        Jurisdiction(
            code=a.code,
            name_ko=a.name_ko,
            name_en=a.name_en,
            level="district",
            parent_id=city.id,
            geom=from_shape(a.geom, srid=4326),
            source=DEMO_SOURCE,
        )
        for a in district_areas
    ]
    session.add_all(districts)
    session.flush()
    district_id = {d.code: d.id for d in districts}
    dong = [
        Jurisdiction(
            code=a.code,
            name_ko=a.name_ko,
            name_en=a.name_en,
            level="dong",
            parent_id=district_id[a.parent],
            geom=from_shape(a.geom, srid=4326),
            source=DEMO_SOURCE,
        )
        for a in dong_areas
    ]
    session.add_all(dong)
    session.flush()
    for level in ("city", "district", "dong"):
        jurisdictions.rebuild_parts(session, level)
    return city, districts, dong


def _write_offices(session: Session, city: Jurisdiction, districts: list[Jurisdiction]) -> list[Office]:
    """The city's divisions and each district's roads, sanitation and safety divisions."""
    offices = [
        Office(
            slug=f"{CITY[0]}-{dept}",
            jurisdiction_id=city.id,
            department=dept,
            name_ko=f"{CITY[1]} {ko}",
            name_en=f"{CITY[2]} {en}",
            active=True,
        )
        for dept, (ko, en) in CITY_DIVISIONS.items()
    ]
    for district in districts:
        for dept in DISTRICT_DEPARTMENTS:
            if (district.code, dept) == MISSING_OFFICE:
                continue
            ko, en = district_division(district.code, dept)
            offices.append(
                Office(
                    slug=f"{district.code}-{dept}",
                    jurisdiction_id=district.id,
                    department=dept,
                    name_ko=f"{district.name_ko} {ko}",
                    name_en=f"{district.name_en} {en}",
                    active=True,
                )
            )
    session.add_all(offices)
    session.flush()
    return offices


def random_point_in(area: Area, rng: random.Random) -> tuple[float, float]:
    """A point drawn uniformly inside an area (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = area.geom.bounds
    shapely.prepare(area.geom)
    while True:
        lon, lat = round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6)
        if area.geom.contains(Point(lon, lat)):
            return lon, lat


def _insert_reports(session: Session, rng: random.Random, count: int, now: datetime) -> None:
    """Reports spread where people live: each dong equally likely, the point uniform inside it.

    There is no population file; administrative dong are drawn and redrawn to hold similar numbers
    of residents (most of Seoul's hold 15,000 to 40,000), so an equal share per dong puts more reports
    where dong are small, which is where people live densely, and few on the mountains and the river.
    """
    rows = session.execute(
        select(Category.id, Category.layer_id, Layer.kind, Category.slug, Category.level, Category.department)
        .join(Layer, Layer.id == Category.layer_id)
        .where(Category.retired.is_(False))
        .order_by(Category.slug)
    ).all()
    # Everyday problems far outnumber disaster reports, as in a real city.
    weights = [8 if row.kind == "everyday" else 1 for row in rows]
    dong = read_areas("dong")
    # The first reports show every category once; one of them falls where no office takes it (triage).
    missing = [r for r in rows if r.level == "district" and r.department == MISSING_OFFICE[1]][:1]
    first = [*rows, *missing]
    values: list[dict[str, object]] = []
    for n in range(count):
        category = first[n] if n < len(first) else rng.choices(rows, weights)[0]
        places = dong
        if n == len(rows) and missing:
            places = tuple(a for a in dong if a.parent == MISSING_OFFICE[0])
        lon, lat = random_point_in(rng.choice(places), rng)
        # Mostly recent, some months old; at least ten minutes before the load.
        created = now - timedelta(days=rng.uniform(0, 120) ** 1.3 / 3, minutes=rng.uniform(10, 600))
        values.append(
            {
                "public_id": new_public_id(),
                "layer_id": category.layer_id,
                "category_id": category.id,
                "geom": f"SRID=4326;POINT({lon:.6f} {lat:.6f})",
                "description": rng.choice(DESCRIPTIONS),
                "status": "submitted",
                "channel": "demo",
                "locale": rng.choice(["ko", "ko", "ko", "en"]),
                "location_source": rng.choice(["pin", "pin", "photo"]),
                "support_count": int(rng.expovariate(0.5)),
                "created_at": created,
                "updated_at": created,
            }
        )
    if values:
        session.execute(insert(Report), values)
    session.execute(
        text(
            "INSERT INTO report_events (report_id, kind, to_status, actor, public_note, private_note, created_at) "
            "SELECT id, 'submitted', 'submitted', 'citizen', '', '', created_at FROM reports WHERE channel = 'demo'"
        )
    )


def _date_routing(session: Session) -> None:
    """Routing happens seconds after a report arrives, not when the demo was loaded."""
    routed_at = "r.created_at + make_interval(secs => 2 + r.id % 37)"
    session.execute(
        text(f"UPDATE reports r SET routed_at = {routed_at}, updated_at = {routed_at} WHERE r.channel = 'demo'")  # noqa: S608 - fixed SQL
    )
    session.execute(
        text(
            "UPDATE report_events e SET created_at = r.routed_at FROM reports r "
            "WHERE e.report_id = r.id AND e.kind = 'routed' AND r.channel = 'demo'"
        )
    )
    session.execute(
        text(
            "UPDATE routing_decisions d SET decided_at = r.routed_at FROM reports r "
            "WHERE d.report_id = r.id AND r.channel = 'demo'"
        )
    )


def _advance_statuses(session: Session, rng: random.Random, now: datetime) -> int:
    """Move routed demo reports along the workflow, step by step, each step after the one before."""
    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    routed = session.execute(
        select(Report.id, Report.routed_at).where(Report.status == "routed").order_by(Report.id)
    ).all()
    updates, events = [], []
    for n, (report_id, routed_at) in enumerate(routed):
        # The first reports show every status once; the rest as the weights say.
        status = statuses[n] if n < len(statuses) else rng.choices(statuses, weights)[0]
        path = rng.choice(PATHS[status])
        if not path:
            continue
        assert routed_at is not None  # _date_routing dated every demo report
        hours = [rng.uniform(least, most) for _, least, most in path]
        # A young report has had less time: its steps are squeezed into the time it has had.
        room = (now - routed_at).total_seconds() / 3600 - 0.05
        if sum(hours) > room:
            hours = [h * room / sum(hours) for h in hours]
        when, previous = routed_at, "routed"
        reason = None
        resolved_at = None
        for (step, _, _), gap in zip(path, hours, strict=True):
            when = when + timedelta(hours=gap)
            note = ""
            if step == "resolved":
                note, resolved_at = rng.choice(NOTES["resolved"]), when
            elif step == "closed":
                reason = "duplicate" if previous == "routed" else "cannot_fix"
                note = rng.choice(NOTES[reason])
            elif step == "reopened":
                note = rng.choice(NOTES["reopened"])
            events.append(
                {
                    "report_id": report_id,
                    "kind": "reopened" if step == "reopened" else "status_changed",
                    "from_status": previous,
                    "to_status": step,
                    "actor": "citizen" if step == "reopened" else "office",
                    "public_note": note,
                    "private_note": "",
                    "created_at": when,
                }
            )
            previous = step
        updates.append(
            {"rid": report_id, "status": status, "close_reason": reason, "resolved_at": resolved_at, "updated_at": when}
        )
    if updates:
        # One statement for all of them: a round trip per report would be most of the load time.
        session.execute(
            text(
                "UPDATE reports r SET status = u.status, close_reason = u.close_reason, resolved_at = u.resolved_at, "
                "updated_at = u.updated_at FROM unnest(CAST(:rid AS bigint[]), CAST(:status AS text[]), "
                "CAST(:close_reason AS text[]), CAST(:resolved_at AS timestamptz[]), "
                "CAST(:updated_at AS timestamptz[])) AS u(rid, status, close_reason, resolved_at, updated_at) "
                "WHERE r.id = u.rid"
            ),
            {key: [u[key] for u in updates] for key in updates[0]},
        )
        session.execute(insert(ReportEvent), events)
    return int(session.scalar(select(func.count()).select_from(Report).where(Report.status == "triage")) or 0)
