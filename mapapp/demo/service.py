"""Seoul as a demo: its real 25 districts and 425 administrative dong (shipped, simplified, in
data/; see NOTICE), the city's and districts' offices, the layers and reports with their timelines."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp import jurisdictions
from mapapp.core.errors import Conflict
from mapapp.demo.offices import CITY, CITY_DIVISIONS, DISTRICT_DEPARTMENTS, MISSING_OFFICE, district_division
from mapapp.jurisdictions.models import Jurisdiction
from mapapp.layers import service as layers
from mapapp.layers.schemas import LayerDefinition
from mapapp.offices.models import Office

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
    places: int = 0  # gazetteer places that channel messages may name

    def __str__(self) -> str:
        return (
            f"{self.districts} districts, {self.dong} dong, {self.offices} offices, {self.reports} reports "
            f"({self.triage} waiting in triage), {self.places} gazetteer places"
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


def refuse_foreign_data(session: Session) -> None:
    """Raise Conflict when the database holds jurisdictions or reports that are not demo data."""
    foreign = session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM jurisdictions WHERE source <> :demo) "
            "OR EXISTS (SELECT 1 FROM reports WHERE channel <> 'demo')"
        ),
        {"demo": DEMO_SOURCE},
    )
    if foreign:
        raise Conflict("this database holds data that is not demo data; the demo is only loaded into a fresh database")


def load_demo(
    session: Session, *, definitions: list[LayerDefinition], reports: int = 400, seed: int = 1
) -> DemoSummary:
    """Write the demo city, offices, layers and reports; refuses a database with non-demo data."""
    from mapapp.demo.generate import generate_reports  # local: the generator builds on this module's areas

    refuse_foreign_data(session)
    if has_data(session):
        raise Conflict("demo data is already loaded")
    layers.sync_layers(session, definitions)
    city, districts, dong = _write_jurisdictions(session)
    offices = _write_offices(session, city, districts)
    places = _write_gazetteer(session)
    # The showcase: the first reports show every category and every status once, and one waits in triage.
    generated = generate_reports(session, reports=reports, seed=seed, span_days=120, showcase=True)
    return DemoSummary(len(districts), len(offices), reports, generated.triage, dong=len(dong), places=places)


def _write_gazetteer(session: Session) -> int:
    """The Seoul landmarks, stations and roads that channel messages name (as `mapapp gazetteer import`)."""
    from mapapp.intake import gazetteer
    from mapapp.intake.cli import DEMO_GAZETTEER

    return gazetteer.import_gazetteer(session, gazetteer.read_csv(DEMO_GAZETTEER))


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
