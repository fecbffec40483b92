"""route(point, category): a PostGIS point-in-polygon lookup plus the category's rule.

The rule: the category names the level responsible (city or district) and the department; the
office is that department of the jurisdiction at that level containing the point. Shared borders
go to the lowest code; points in slivers between districts go to the nearest district within
`gap_tolerance_m`; anything that cannot be routed goes to triage with the reason recorded.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.errors import InvalidInput
from mapapp.core.settings import get_settings
from mapapp.layers.service import CategoryNotFound

METRES_PER_DEGREE = 111_320.0


class InvalidCoordinates(InvalidInput):
    code = "invalid_coordinates"


class OutsideServiceArea(InvalidInput):
    code = "outside_service_area"


@dataclass(frozen=True)
class JurisdictionRef:
    id: int
    code: str
    level: str
    name_ko: str
    name_en: str


@dataclass(frozen=True)
class OfficeRef:
    id: int
    slug: str
    name_ko: str
    name_en: str


REASONS = {
    "routed_by_category": {
        "en": "The point lies inside {district_en} ({district_code}). '{category_en}' is handled by the "
        "{level} office's '{department}' department: {office_en}.",
        "ko": "{district_ko}({district_code}) 안의 지점입니다. '{category_ko}'은(는) {level_ko}의 "
        "'{department}' 부서 담당입니다: {office_ko}.",
    },
    "routed_nearest_district": {
        "en": "The point lies in a gap between district boundaries, {distance_m} m from {district_en} "
        "({district_code}), the nearest district. '{category_en}' is handled by the {level} office's "
        "'{department}' department: {office_en}.",
        "ko": "구 경계 사이의 틈에 있는 지점으로, 가장 가까운 {district_ko}({district_code})까지 {distance_m} m입니다. "
        "'{category_ko}'은(는) {level_ko}의 '{department}' 부서 담당입니다: {office_ko}.",
    },
    "triage_no_office": {
        "en": "The point lies inside {district_en} ({district_code}), but {jurisdiction_en} has no office for the "
        "'{department}' department that handles '{category_en}'. Sent to triage.",
        "ko": "{district_ko}({district_code}) 안의 지점이지만 {jurisdiction_ko}에는 '{category_ko}'을(를) 담당하는 "
        "'{department}' 부서가 없습니다. 분류 대기열로 보냈습니다.",
    },
    "triage_outside_service_area": {
        "en": "The point lies outside every district and outside the city. Sent to triage.",
        "ko": "어느 구에도, 시 경계 안에도 속하지 않는 지점입니다. 분류 대기열로 보냈습니다.",
    },
    "triage_outside_districts": {
        "en": "The point lies inside {city_en} but in no district, and no district is within {tolerance_m} m. "
        "Sent to triage.",
        "ko": "{city_ko} 안이지만 어느 구에도 속하지 않고 {tolerance_m} m 안에 구가 없습니다. "
        "분류 대기열로 보냈습니다.",
    },
}
LEVEL_KO = {"city": "시", "district": "구"}


@dataclass(frozen=True)
class RoutingDecision:
    """Who is responsible for a point and category, and why."""

    category_id: int
    category_slug: str
    office: OfficeRef | None
    jurisdictions: tuple[JurisdictionRef, ...]
    method: str  # contains | nearest_district | none
    rule: str
    reason_code: str
    reason_params: dict[str, Any] = field(default_factory=dict)

    @property
    def triage(self) -> bool:
        return self.office is None

    def jurisdiction(self, level: str) -> JurisdictionRef | None:
        """The containing jurisdiction at `level`, if any."""
        return next((j for j in self.jurisdictions if j.level == level), None)

    def reason(self, locale: str = "en") -> str:
        """The human-readable reason in Korean or English."""
        return render_reason(self.reason_code, self.reason_params, locale)


def render_reason(reason_code: str, params: dict[str, Any], locale: str = "en") -> str:
    """A recorded routing reason, in Korean or English."""
    template = REASONS[reason_code]["ko" if locale.startswith("ko") else "en"]
    return template.format_map(_Missing(params))


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


# One statement: containing parts at every level, the nearest district for points in gaps, the
# category's rule and the office. Only the constant point is built; the indexed column is untouched.
ROUTE_SQL = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    cat AS (
        SELECT c.id, c.slug, c.level, c.department, c.name_ko, c.name_en
        FROM categories c WHERE c.slug = :category AND NOT c.retired
    ),
    inside AS (
        SELECT DISTINCT ON (p.level) p.level, p.jurisdiction_id
        FROM jurisdiction_parts p, pt
        WHERE ST_Intersects(p.geom, pt.g)
        ORDER BY p.level, p.code
    ),
    near AS (
        SELECT p.jurisdiction_id, ST_Distance(p.geom::geography, pt.g::geography) AS distance_m
        FROM jurisdiction_parts p, pt
        WHERE NOT EXISTS (SELECT 1 FROM inside WHERE inside.level = 'district')
          AND p.level = 'district' AND ST_DWithin(p.geom, pt.g, :tolerance_deg)
        ORDER BY distance_m, p.code
        LIMIT 1
    ),
    district AS (
        SELECT jurisdiction_id, 0.0::float8 AS distance_m FROM inside WHERE level = 'district'
        UNION ALL
        SELECT jurisdiction_id, distance_m FROM near WHERE distance_m <= :tolerance_m
    )
    SELECT cat.id AS category_id, cat.slug AS category_slug, cat.level AS category_level, cat.department,
           cat.name_ko AS category_ko, cat.name_en AS category_en,
           d.id AS d_id, d.code AS d_code, d.name_ko AS d_ko, d.name_en AS d_en, district.distance_m,
           c.id AS c_id, c.code AS c_code, c.name_ko AS c_ko, c.name_en AS c_en,
           g.id AS g_id, g.code AS g_code, g.name_ko AS g_ko, g.name_en AS g_en,
           o.id AS o_id, o.slug AS o_slug, o.name_ko AS o_ko, o.name_en AS o_en
    FROM cat
    LEFT JOIN district ON true
    LEFT JOIN jurisdictions d ON d.id = district.jurisdiction_id
    LEFT JOIN inside ic ON ic.level = 'city'
    LEFT JOIN jurisdictions c ON c.id = CASE WHEN d.id IS NOT NULL THEN d.parent_id ELSE ic.jurisdiction_id END
    LEFT JOIN inside ig ON ig.level = 'dong'
    LEFT JOIN jurisdictions g ON g.id = ig.jurisdiction_id
    LEFT JOIN offices o ON d.id IS NOT NULL AND o.active AND o.department = cat.department
         AND o.jurisdiction_id = CASE cat.level WHEN 'district' THEN d.id ELSE c.id END
    """
)


def tolerance_degrees(tolerance_m: float, lat: float) -> float:
    """A box half-width in degrees that covers `tolerance_m` at this latitude (longitude shrinks)."""
    return tolerance_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.05))


def check_coordinates(lon: float, lat: float) -> None:
    """Raise InvalidCoordinates unless lon/lat are finite and in range."""
    if not (isinstance(lon, int | float) and isinstance(lat, int | float)):
        raise InvalidCoordinates("longitude and latitude must be numbers")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidCoordinates("longitude and latitude must be finite numbers", lon=str(lon), lat=str(lat))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidCoordinates("longitude must be within -180..180 and latitude within -90..90", lon=lon, lat=lat)


def route(
    session: Session, *, lon: float, lat: float, category: str, tolerance_m: float | None = None
) -> RoutingDecision:
    """Decide which office is responsible for a point and a category slug."""
    check_coordinates(lon, lat)
    tolerance = get_settings().gap_tolerance_m if tolerance_m is None else tolerance_m
    row = (
        session.execute(
            ROUTE_SQL,
            {
                "lon": lon,
                "lat": lat,
                "category": category,
                "tolerance_m": tolerance,
                "tolerance_deg": tolerance_degrees(tolerance, lat),
            },
        )
        .mappings()
        .first()
    )
    if row is None:
        raise CategoryNotFound(f"there is no category {category!r}", category=category)
    return _decision(row, tolerance)


def _ref(row: Any, prefix: str, level: str) -> JurisdictionRef | None:
    if row[f"{prefix}_id"] is None:
        return None
    return JurisdictionRef(row[f"{prefix}_id"], row[f"{prefix}_code"], level, row[f"{prefix}_ko"], row[f"{prefix}_en"])


def _decision(row: Any, tolerance_m: float) -> RoutingDecision:
    district, city, dong = _ref(row, "d", "district"), _ref(row, "c", "city"), _ref(row, "g", "dong")
    found = tuple(j for j in (city, district, dong) if j is not None)
    level, department = row["category_level"], row["department"]
    rule = f"{row['category_slug']} → {level}/{department}"
    params: dict[str, Any] = {
        "category": row["category_slug"],
        "category_ko": row["category_ko"],
        "category_en": row["category_en"],
        "level": level,
        "level_ko": LEVEL_KO[level],
        "department": department,
        "tolerance_m": round(tolerance_m),
    }
    if city is not None:
        params |= {"city_code": city.code, "city_ko": city.name_ko, "city_en": city.name_en}
    if district is None:
        if city is None:
            raise OutsideServiceArea(
                "this point is outside the area served by the city", code_hint="outside_service_area"
            )
        return RoutingDecision(
            row["category_id"],
            row["category_slug"],
            None,
            found,
            "none",
            rule,
            "triage_outside_districts",
            params,
        )
    distance = float(row["distance_m"] or 0.0)
    method = "contains" if distance == 0.0 else "nearest_district"
    params |= {
        "district_code": district.code,
        "district_ko": district.name_ko,
        "district_en": district.name_en,
        "distance_m": round(distance, 1),
    }
    responsible = district if level == "district" else city
    if responsible is not None:
        params |= {
            "jurisdiction_ko": responsible.name_ko,
            "jurisdiction_en": responsible.name_en,
            "jurisdiction_code": responsible.code,
        }
    if row["o_id"] is None:
        return RoutingDecision(
            row["category_id"], row["category_slug"], None, found, method, rule, "triage_no_office", params
        )
    office = OfficeRef(row["o_id"], row["o_slug"], row["o_ko"], row["o_en"])
    params |= {"office": office.slug, "office_ko": office.name_ko, "office_en": office.name_en}
    code = "routed_by_category" if method == "contains" else "routed_nearest_district"
    return RoutingDecision(row["category_id"], row["category_slug"], office, found, method, rule, code, params)


@dataclass
class RerouteSummary:
    checked: int = 0
    moved: int = 0  # open reports whose office changed
    relocated: int = 0  # reports whose district changed
    triage: int = 0


def reroute_reports(
    session: Session,
    *,
    chunk_size: int = 100_000,
    tolerance_m: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RerouteSummary:
    """Route every stored report again, set-based, after boundaries or offices changed.

    Every report gets its current district and city. Open reports that were routed automatically
    and not yet taken up by an office also get the new office, a routing decision and a timeline event;
    reports an office is working on, and manual routings, keep their office.
    """
    from mapapp.routing.batch import REROUTE_SQL  # local: the SQL is long and only this uses it

    tolerance = get_settings().gap_tolerance_m if tolerance_m is None else tolerance_m
    lo, hi = session.execute(text("SELECT coalesce(min(id), 0), coalesce(max(id), -1) FROM reports")).one()
    summary = RerouteSummary()
    total = int(hi - lo + 1) if hi >= lo else 0
    start = lo
    while start <= hi:
        end = start + chunk_size - 1
        row = session.execute(
            REROUTE_SQL,
            {"lo": start, "hi": end, "tolerance_m": tolerance},
        ).one()
        summary.checked += row.checked
        summary.moved += row.moved
        summary.relocated += row.relocated
        summary.triage += row.triage
        if progress is not None:
            progress(min(end, hi) - lo + 1, total)
        start = end + 1
    return summary
