"""route(point, category): a PostGIS point-in-polygon lookup plus the category's rule.

The rule: the category names the level responsible (city or district) and the department; the
office is that department of the jurisdiction at that level containing the point. Shared borders
go to the lowest code; points in slivers between districts go to the nearest district within
`gap_tolerance_m`; anything that cannot be routed goes to triage with the reason recorded.
"""

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.db import prepared_statements_allowed
from mapapp.core.errors import InvalidInput
from mapapp.core.settings import get_settings
from mapapp.layers.service import UnknownCategory
from mapapp.routing import reference, rule
from mapapp.routing.models import RerouteRun
from mapapp.routing.rule import tolerance_degrees


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


# Reasons name categories and offices in words; a department's slug is a code and is never shown.
REASONS = {
    "routed_by_category": {
        "en": "The point lies inside {district_en} ({district_code}). '{category_en}' is handled by the "
        "{level} office: {office_en}.",
        "ko": "{district_ko}({district_code}) 안의 지점입니다. '{category_ko}'은(는) {level_ko}의 담당 부서가 "
        "처리합니다: {office_ko}.",
    },
    "routed_nearest_district": {
        "en": "The point lies in a gap between district boundaries, {distance_m} m from {district_en} "
        "({district_code}), the nearest district. '{category_en}' is handled by the {level} office: "
        "{office_en}.",
        "ko": "구 경계 사이의 틈에 있는 지점으로, 가장 가까운 {district_ko}({district_code})까지 {distance_m} m입니다. "
        "'{category_ko}'은(는) {level_ko}의 담당 부서가 처리합니다: {office_ko}.",
    },
    "triage_no_office": {
        "en": "The point lies inside {district_en} ({district_code}), but {jurisdiction_en} has no office that "
        "handles '{category_en}'. Sent to triage.",
        "ko": "{district_ko}({district_code}) 안의 지점이지만 {jurisdiction_ko}에는 '{category_ko}'을(를) 담당하는 "
        "부서가 없습니다. 분류 대기열로 보냈습니다.",
    },
    "manual": {
        "en": "Routed by hand by city staff: {reason}",
        "ko": "시 담당자가 직접 배정했습니다: {reason}",
    },
    "manual_by": {
        "en": "Routed by hand by {by_en} to {office_en}: {reason}",
        "ko": "{by_ko}에서 {office_ko}(으)로 직접 배정했습니다: {reason}",
    },
    "triage_by": {
        "en": "Sent back to the city's triage team by {by_en}: {reason}",
        "ko": "{by_ko}에서 시 분류 담당에게 돌려보냈습니다: {reason}",
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
    # Channel messages (mapapp.intake): the category and place were read from the message text.
    "routed_from_message": {
        "en": "Classified from the message text: '{category_en}' (words: {evidence}; confidence {confidence}). "
        "The place ({precision_en}) lies in {district_en} ({district_code}). '{category_en}' is handled by the "
        "{level} office: {office_en}.",
        "ko": "메시지 글에서 분류했습니다: '{category_ko}' (근거: {evidence}, 신뢰도 {confidence}). "
        "위치({precision_ko})는 {district_ko}({district_code})입니다. '{category_ko}'은(는) {level_ko}의 담당 부서가 "
        "처리합니다: {office_ko}.",
    },
    "triage_message_unsure": {
        "en": "Read from a channel message, but not surely enough to route it ({why}). Sent to triage.",
        "ko": "채널 메시지에서 읽었지만 자동으로 배정할 만큼 확실하지 않습니다 ({why}). 분류 대기열로 보냈습니다.",
    },
}


@dataclass(frozen=True)
class RoutingDecision:
    """Who is responsible for a point and category, and why (shared between lookups: read, never change)."""

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


# A point inside a district is looked up in memory (routing.reference.Parts), after one short query for
# the reference data's version. Every other point takes one statement, prepared once per connection
# (planning it would cost more than running it), that answers with ids only: the district part
# containing the point (lowest code on a shared border), else the nearest district part within the
# tolerance, the dong part containing it, the city polygon when there is no district (with one, the
# city is the district's parent), and the version. Names, parents, the category's rule and its office
# come from routing.reference's copy.
ROUTE_STATEMENT = "mapapp_route_v5"
PREPARE_ROUTE = f"""
PREPARE {ROUTE_STATEMENT} (float8, float8, float8, float8) AS
WITH pt AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326) AS g)
SELECT dist.jurisdiction_id, dist.distance_m,
       ({rule.part_containing_sql("dong", "pt.g")}),
       CASE WHEN dist.jurisdiction_id IS NULL THEN ({rule.part_containing_sql("city", "pt.g")}) END,
       (SELECT version FROM routing_reference)
FROM pt
LEFT JOIN LATERAL (
    ({rule.part_containing_sql("district", "pt.g", "p.jurisdiction_id, 0.0::float8 AS distance_m")})
    UNION ALL  -- reached only when no district contains the point
    ({rule.nearest_district_sql("pt.g", "$4")})
    LIMIT 1
) dist ON dist.distance_m <= $3
"""  # noqa: S608 - fixed fragments; the values are the statement's parameters
EXECUTE_ROUTE = f"EXECUTE {ROUTE_STATEMENT} (%s, %s, %s, %s)"
# The same statement sent whole each time, for PgBouncer in transaction mode (issue 14): there a prepared
# statement lives on whichever server connection the PREPARE happened to use, not on the next transaction's.
PLAIN_ROUTE = PREPARE_ROUTE.split(" AS\n", 1)[1]
for _n in range(4, 0, -1):
    PLAIN_ROUTE = PLAIN_ROUTE.replace(f"${_n}", f"%(p{_n})s")
VERSION_SQL = "SELECT version FROM routing_reference"
_DATABASE = "mapapp_route_database"


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
    dbapi = session.connection().connection  # the hot path talks to the driver directly
    cursor = dbapi.cursor()
    try:
        database = dbapi.info.get(_DATABASE)
        if database is None:
            info = dbapi.dbapi_connection.info  # type: ignore[union-attr]
            database = dbapi.info[_DATABASE] = f"{info.host}:{info.port}/{info.dbname}"
        cursor.execute(VERSION_SQL)
        (version,) = cursor.fetchone()  # type: ignore[misc]  # one row
        ref = reference.cached(database, version) or reference.load(cursor, database)
        cat = ref.categories.get(category)
        if cat is None:
            raise UnknownCategory(f"there is no category {category!r}", category=category)
        inside = ref.parts.containing(lon, lat)
        district_id, distance_m, dong_id, city_id = inside.get("district"), 0.0, inside.get("dong"), None
        if district_id is None:  # a gap or outside every district: geodesic distances, in the database
            values = (lon, lat, tolerance, tolerance_degrees(tolerance, lat))
            if not prepared_statements_allowed():
                cursor.execute(PLAIN_ROUTE, {f"p{i}": v for i, v in enumerate(values, start=1)})
            else:
                if not dbapi.info.get(ROUTE_STATEMENT):
                    cursor.execute(PREPARE_ROUTE)
                    dbapi.info[ROUTE_STATEMENT] = True
                cursor.execute(EXECUTE_ROUTE, values)
            district_id, distance_m, dong_id, city_id, _ = cursor.fetchone()  # type: ignore[misc]  # one row
    finally:
        cursor.close()
    if district_id is not None:
        city_id = ref.jurisdictions[district_id].parent_id
    if distance_m != 0.0:  # a gap or no district: the distance is part of the reason, so nothing to share
        return _decision(ref, cat, district_id, distance_m, dong_id, city_id, tolerance)
    # Inside a district the decision depends on nothing but these ids and the reference copy: made once.
    key = (cat.slug, district_id, dong_id, round(tolerance))
    decision = ref.decisions.get(key)
    if decision is None:
        decision = ref.decisions[key] = _decision(ref, cat, district_id, distance_m, dong_id, city_id, tolerance)
    return decision


def _ref(ref: reference.Reference, jurisdiction_id: int | None, level: str) -> JurisdictionRef | None:
    if jurisdiction_id is None:
        return None
    j = ref.jurisdictions[jurisdiction_id]
    return JurisdictionRef(j.id, j.code, level, j.name_ko, j.name_en)


def _decision(
    ref: reference.Reference,
    cat: reference.Category,
    district_id: int | None,
    distance_m: float | None,
    dong_id: int | None,
    city_id: int | None,
    tolerance_m: float,
) -> RoutingDecision:
    district, city, dong = _ref(ref, district_id, "district"), _ref(ref, city_id, "city"), _ref(ref, dong_id, "dong")
    found = tuple(j for j in (city, district, dong) if j is not None)
    held = ref.office(cat, district_id, city_id)
    office = OfficeRef(held.id, held.slug, held.name_ko, held.name_en) if held else None
    distance = None if district is None else float(distance_m or 0.0)
    code = rule.reason_code(district is not None, city is not None, office is not None, distance)
    if code == "triage_outside_service_area":
        raise OutsideServiceArea("this point is outside the area served by the city")
    level = cat.level
    # The same keys, from the same sources, as the batch's jsonb_build_object in routing.batch.
    params: dict[str, Any] = {
        "category": cat.slug,
        "category_ko": cat.name_ko,
        "category_en": cat.name_en,
        "level": level,
        "level_ko": rule.LEVEL_KO[level],
        "department": cat.department,
        "tolerance_m": round(tolerance_m),
    }
    if city is not None:
        params |= {"city_code": city.code, "city_ko": city.name_ko, "city_en": city.name_en}
    if district is not None:
        params |= {
            "district_code": district.code,
            "district_ko": district.name_ko,
            "district_en": district.name_en,
            "distance_m": round(distance or 0.0, 1),
        }
        responsible_j = district if level == "district" else city
        if responsible_j is not None:
            params |= {
                "jurisdiction_ko": responsible_j.name_ko,
                "jurisdiction_en": responsible_j.name_en,
                "jurisdiction_code": responsible_j.code,
            }
    if office is not None:
        params |= {"office": office.slug, "office_ko": office.name_ko, "office_en": office.name_en}
    return RoutingDecision(
        cat.id,
        cat.slug,
        office,
        found,
        rule.method(district is not None, distance),
        rule.rule_text(cat.slug, level, cat.department),
        code,
        params,
    )


@dataclass
class RerouteSummary:
    checked: int = 0
    candidates: int = 0  # reports whose routing could have changed, decided again
    moved: int = 0  # open reports whose office changed
    relocated: int = 0  # reports whose district changed
    triage: int = 0


# Let the candidate search use both cores: the parts table is small, so PostgreSQL's defaults would
# not plan a parallel scan over it even though each part's probe of the reports index is real work.
_PARALLEL = {
    "parallel_setup_cost": "0",
    "parallel_tuple_cost": "0",
    "min_parallel_table_scan_size": "0",
    "jit": "off",
    "work_mem": "128MB",
}


def reroute_reports(
    session: Session,
    *,
    tolerance_m: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RerouteSummary:
    """Route stored reports again, set-based, after boundaries or offices changed.

    Every report whose district may have changed gets its current district and city. Open reports
    that were routed automatically and not yet taken up by an office also get the new office, a
    routing decision and a timeline event; reports an office is working on, and manual routings,
    keep their office.
    """
    from mapapp.routing.batch import CANDIDATES_SQL, REROUTE_SQL  # local: long SQL only this uses

    tolerance = get_settings().gap_tolerance_m if tolerance_m is None else tolerance_m
    if progress is not None:
        progress(0, 2)
    session.execute(text("DROP TABLE IF EXISTS reroute_candidates"))
    previous = {name: session.scalar(text("SELECT current_setting(:n)"), {"n": name}) for name in _PARALLEL}
    for name, value in _PARALLEL.items():
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    session.execute(CANDIDATES_SQL)
    for name, value in previous.items():
        session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    session.execute(text("ANALYZE reroute_candidates"))
    if progress is not None:
        progress(1, 2)
    row = session.execute(REROUTE_SQL, {"tolerance_m": tolerance}).one()
    session.execute(text("DROP TABLE reroute_candidates"))
    # Every report has now been routed against the current polygons.
    session.execute(text("UPDATE jurisdictions SET routed_geom = NULL WHERE routed_geom IS NOT NULL"))
    summary = RerouteSummary(row.checked, row.candidates, row.moved, row.relocated, row.triage)
    session.add(RerouteRun(summary=asdict(summary)))
    session.flush()
    if progress is not None:
        progress(2, 2)
    return summary
