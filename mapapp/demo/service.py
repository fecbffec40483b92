"""A made-up city that looks like one: Voronoi cells around 25 district offices, clipped to an outline."""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from mapapp import jurisdictions, routing
from mapapp.core.errors import Conflict
from mapapp.jurisdictions.models import Jurisdiction
from mapapp.layers import service as layers
from mapapp.layers.models import Category, Layer
from mapapp.layers.schemas import LayerDefinition
from mapapp.offices.models import Office
from mapapp.reports.models import Report, ReportEvent
from mapapp.reports.service import new_public_id

DEMO_SOURCE = "demo"

# A hand-drawn outline around the area of Seoul (lon, lat).
OUTLINE = [
    (126.764, 37.555),
    (126.795, 37.585),
    (126.840, 37.600),
    (126.880, 37.640),
    (126.910, 37.660),
    (126.950, 37.650),
    (126.990, 37.680),
    (127.030, 37.700),
    (127.070, 37.690),
    (127.100, 37.670),
    (127.110, 37.620),
    (127.140, 37.590),
    (127.180, 37.560),
    (127.170, 37.530),
    (127.140, 37.490),
    (127.100, 37.460),
    (127.060, 37.430),
    (127.000, 37.440),
    (126.950, 37.430),
    (126.900, 37.430),
    (126.870, 37.470),
    (126.820, 37.480),
    (126.800, 37.520),
    (126.770, 37.530),
]

# District code, Korean and English names, and roughly where each district office stands.
DISTRICTS = [
    ("11110", "종로구", "Jongno-gu", 126.9786, 37.5735),
    ("11140", "중구", "Jung-gu", 126.9977, 37.5641),
    ("11170", "용산구", "Yongsan-gu", 126.9903, 37.5326),
    ("11200", "성동구", "Seongdong-gu", 127.0369, 37.5634),
    ("11215", "광진구", "Gwangjin-gu", 127.0823, 37.5385),
    ("11230", "동대문구", "Dongdaemun-gu", 127.0398, 37.5744),
    ("11260", "중랑구", "Jungnang-gu", 127.0928, 37.6066),
    ("11290", "성북구", "Seongbuk-gu", 127.0167, 37.5894),
    ("11305", "강북구", "Gangbuk-gu", 127.0256, 37.6396),
    ("11320", "도봉구", "Dobong-gu", 127.0471, 37.6688),
    ("11350", "노원구", "Nowon-gu", 127.0568, 37.6542),
    ("11380", "은평구", "Eunpyeong-gu", 126.9288, 37.6027),
    ("11410", "서대문구", "Seodaemun-gu", 126.9368, 37.5791),
    ("11440", "마포구", "Mapo-gu", 126.9016, 37.5663),
    ("11470", "양천구", "Yangcheon-gu", 126.8665, 37.5170),
    ("11500", "강서구", "Gangseo-gu", 126.8495, 37.5509),
    ("11530", "구로구", "Guro-gu", 126.8875, 37.4954),
    ("11545", "금천구", "Geumcheon-gu", 126.8956, 37.4569),
    ("11560", "영등포구", "Yeongdeungpo-gu", 126.8962, 37.5264),
    ("11590", "동작구", "Dongjak-gu", 126.9393, 37.5124),
    ("11620", "관악구", "Gwanak-gu", 126.9515, 37.4784),
    ("11650", "서초구", "Seocho-gu", 127.0324, 37.4837),
    ("11680", "강남구", "Gangnam-gu", 127.0473, 37.5172),
    ("11710", "송파구", "Songpa-gu", 127.1059, 37.5145),
    ("11740", "강동구", "Gangdong-gu", 127.1238, 37.5301),
]
CITY = ("11", "서울특별시", "Seoul")
CITY_DEPARTMENTS = [
    ("traffic", "교통운영과", "Traffic Operations"),
    ("water", "물순환안전과", "Water and Sewerage"),
    ("transit", "버스정책과", "Bus Policy"),
    ("safety", "재난안전과", "Disaster Safety"),
    ("roads", "도로관리과", "Road Management"),
]
DISTRICT_DEPARTMENTS = [
    ("roads", "건설관리과", "Construction Management"),
    ("sanitation", "청소행정과", "Sanitation"),
    ("safety", "안전재난과", "Safety and Disasters"),
]
# One district has no sanitation office, so the demo shows what triage looks like.
MISSING_OFFICE = ("11140", "sanitation")

DESCRIPTIONS = [
    "지나가다 발견했습니다. 빠른 조치 부탁드립니다.",
    "밤에 특히 위험합니다.",
    "며칠째 그대로입니다.",
    "Noticed this on my way to work; please take a look.",
    "아이들이 많이 다니는 길이라 걱정됩니다.",
    "It has been like this since last week.",
    "",
]
STATUS_WEIGHTS = [
    ("routed", 25),
    ("acknowledged", 12),
    ("assigned", 10),
    ("in_progress", 13),
    ("resolved", 28),
    ("closed", 7),
    ("reopened", 5),
]


@dataclass
class DemoSummary:
    districts: int
    offices: int
    reports: int
    triage: int

    def __str__(self) -> str:
        return (
            f"{self.districts} districts, {self.offices} offices, {self.reports} reports "
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


def district_cells() -> list[tuple[str, str, str, MultiPolygon]]:
    """The 25 demo district polygons: Voronoi cells of the offices, clipped to the outline."""
    outline = Polygon(OUTLINE)
    sites = MultiPoint([(lon, lat) for *_, lon, lat in DISTRICTS])
    cells = shapely.voronoi_polygons(sites, extend_to=outline.buffer(0.2))
    out = []
    for code, name_ko, name_en, lon, lat in DISTRICTS:
        site = Point(lon, lat)
        cell = next(c for c in cells.geoms if c.contains(site))
        clipped = cell.intersection(outline)
        parts = [clipped] if isinstance(clipped, Polygon) else list(getattr(clipped, "geoms", []))
        out.append((code, name_ko, name_en, MultiPolygon([p for p in parts if isinstance(p, Polygon)])))
    return out


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
    layers.sync_layers(session, definitions)

    city = Jurisdiction(
        code=CITY[0],
        name_ko=CITY[1],
        name_en=CITY[2],
        level="city",
        geom=from_shape(MultiPolygon([Polygon(OUTLINE)]), srid=4326),
        geometry_source="imported",
        source=DEMO_SOURCE,
    )
    session.add(city)
    session.flush()
    districts = []
    for code, name_ko, name_en, geom in district_cells():
        districts.append(
            Jurisdiction(
                code=code,
                name_ko=name_ko,
                name_en=name_en,
                level="district",
                parent_id=city.id,
                geom=from_shape(geom, srid=4326),
                source=DEMO_SOURCE,
            )
        )
    session.add_all(districts)
    session.flush()
    jurisdictions.rebuild_parts(session, "city")
    jurisdictions.rebuild_parts(session, "district")

    offices = [
        Office(
            slug=f"{CITY[0]}-{dept}",
            jurisdiction_id=city.id,
            department=dept,
            name_ko=f"{CITY[1]} {ko}",
            name_en=f"{CITY[2]} {en}",
            active=True,
        )
        for dept, ko, en in CITY_DEPARTMENTS
    ]
    for district in districts:
        offices += [
            Office(
                slug=f"{district.code}-{dept}",
                jurisdiction_id=district.id,
                department=dept,
                name_ko=f"{district.name_ko} {ko}",
                name_en=f"{district.name_en} {en}",
                active=True,
            )
            for dept, ko, en in DISTRICT_DEPARTMENTS
            if (district.code, dept) != MISSING_OFFICE
        ]
    session.add_all(offices)
    session.flush()

    _insert_reports(session, rng, reports)
    routing.reroute_reports(session)
    triage = _advance_statuses(session, rng)
    return DemoSummary(len(districts), len(offices), reports, triage)


def _insert_reports(session: Session, rng: random.Random, count: int) -> None:
    outline = Polygon(OUTLINE)
    minx, miny, maxx, maxy = outline.bounds
    rows = session.execute(
        select(Category.id, Category.layer_id, Layer.kind)
        .join(Layer, Layer.id == Category.layer_id)
        .where(Category.retired.is_(False))
    ).all()
    # Everyday problems far outnumber disaster reports, as in a real city.
    weights = [8 if kind == "everyday" else 1 for _, _, kind in rows]
    now = datetime.now(UTC)
    values: list[dict[str, object]] = []
    while len(values) < count:
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not outline.contains(Point(lon, lat)):
            continue
        category_id, layer_id, _ = rng.choices(rows, weights)[0]
        created = now - timedelta(days=rng.uniform(0, 120) ** 1.3 / 3, minutes=rng.uniform(0, 600))
        values.append(
            {
                "public_id": new_public_id(),
                "layer_id": layer_id,
                "category_id": category_id,
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
    session.execute(insert(Report), values)
    session.execute(
        text(
            "INSERT INTO report_events (report_id, kind, to_status, actor, public_note, private_note, created_at) "
            "SELECT id, 'submitted', 'submitted', 'citizen', '', '', created_at FROM reports WHERE channel = 'demo'"
        )
    )


def _advance_statuses(session: Session, rng: random.Random) -> int:
    """Move routed demo reports along the workflow so that the map shows every status."""
    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    routed = session.execute(select(Report.id, Report.created_at).where(Report.status == "routed")).all()
    now = datetime.now(UTC)
    updates, events = [], []
    for report_id, created in routed:
        status = rng.choices(statuses, weights)[0]
        if status == "routed":
            continue
        when = min(created + timedelta(hours=rng.uniform(1, 96)), now)
        reason = rng.choice(["duplicate", "not_ours", "cannot_fix"]) if status == "closed" else None
        updates.append(
            {
                "rid": report_id,
                "status": status,
                "close_reason": reason,
                "resolved_at": when if status == "resolved" else None,
                "updated_at": when,
            }
        )
        note = "조치 완료했습니다. 신고해 주셔서 감사합니다." if status == "resolved" else ""
        events.append(
            {
                "report_id": report_id,
                "kind": "status_changed",
                "from_status": "routed",
                "to_status": status,
                "actor": "office",
                "public_note": note,
                "private_note": "",
                "created_at": when,
            }
        )
    if updates:
        session.execute(
            text(
                "UPDATE reports SET status = :status, close_reason = :close_reason, resolved_at = :resolved_at, "
                "updated_at = :updated_at WHERE id = :rid"
            ),
            updates,
        )
        session.execute(insert(ReportEvent), events)
    return int(session.scalar(select(func.count()).select_from(Report).where(Report.status == "triage")) or 0)
