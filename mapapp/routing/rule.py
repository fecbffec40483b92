"""The routing rule, written once: the SQL fragments and Python twins that `route` and `reroute_reports` both run.

Single routing (one prepared statement, decided in Python from its row) and batch routing (set-based,
decided in SQL) are built from these pieces; tests/routing/test_single_equals_batch.py routes the same
points both ways and compares the decisions field by field.
"""

import math
import string

from mapapp.core import status as report_status

METRES_PER_DEGREE = 111_320.0
MIN_COS = 0.05  # near the poles a degree of longitude is never taken as shorter than this share of the equator's
LEVEL_KO = {"city": "시", "district": "구"}
RULE_TEXT = "{category} → {level}/{department}"


def rule_text(category: str, level: str, department: str) -> str:
    """The rule as recorded with a decision, e.g. 'streetlight-out → district/roads'."""
    return RULE_TEXT.format(category=category, level=level, department=department)


def rule_sql(**columns: str) -> str:
    """RULE_TEXT as a SQL concatenation of the given column expressions (category, level, department)."""
    parts = []
    for literal, name, _, _ in string.Formatter().parse(RULE_TEXT):
        if literal:
            parts.append("'" + literal.replace("'", "''") + "'")
        if name:
            parts.append(columns[name])
    return " || ".join(parts)


def level_ko_sql(level: str) -> str:
    """LEVEL_KO as a SQL CASE over a category level expression."""
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in LEVEL_KO.items())
    return f"(CASE {level} {whens} END)"


def tolerance_degrees(tolerance_m: float, lat: float) -> float:
    """A box half-width in degrees that covers `tolerance_m` at this latitude (longitude shrinks)."""
    return tolerance_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), MIN_COS))


def tolerance_degrees_sql(tolerance_m: str, lat: str) -> str:
    """tolerance_degrees() as SQL over a tolerance and a latitude expression."""
    return f"({tolerance_m} / ({METRES_PER_DEGREE} * greatest(cos(radians({lat})), {MIN_COS})))"


def part_containing_sql(level: str, point: str, columns: str = "p.jurisdiction_id") -> str:
    """The jurisdiction at `level` whose part contains the point; on a shared border the lowest code."""
    assert level in ("city", "district", "dong"), level
    return (
        f"SELECT {columns} FROM jurisdiction_parts p WHERE p.level = '{level}' "  # noqa: S608 - names, no values
        f"AND ST_Intersects(p.geom, {point}) ORDER BY p.code LIMIT 1"
    )


def nearest_district_sql(point: str, degrees: str, when: str = "true") -> str:
    """(jurisdiction_id, distance_m) of the nearest district part within a box of `degrees`, lowest code on ties."""
    return (
        f"SELECT p.jurisdiction_id, ST_Distance(p.geom::geography, {point}::geography) AS distance_m "  # noqa: S608
        f"FROM jurisdiction_parts p WHERE {when} AND p.level = 'district' AND ST_DWithin(p.geom, {point}, {degrees}) "
        "ORDER BY distance_m, p.code LIMIT 1"
    )


def city_sql(district: str, district_parent: str, point: str) -> str:
    """The city: the district's parent when there is a district, else the city polygon containing the point."""
    return f"(CASE WHEN {district} IS NOT NULL THEN {district_parent} ELSE ({part_containing_sql('city', point)}) END)"


def responsible_jurisdiction(level: str, district: int | None, city: int | None) -> int | None:
    """The jurisdiction whose office handles a category of this level: its district, or its city."""
    return district if level == "district" else city


def office_match_sql(office: str, category: str, district: str, city: str) -> str:
    """The join condition of the responsible office: the category's department at its level, only with a district.

    Python's twin is routing.reference.Reference.office, with responsible_jurisdiction().
    """
    return (
        f"{district} IS NOT NULL AND {office}.active AND {office}.department = {category}.department "
        f"AND {office}.jurisdiction_id = CASE {category}.level WHEN 'district' THEN {district} ELSE {city} END"
    )


def method(has_district: bool, distance_m: float | None) -> str:
    """How the district was found: contains, nearest_district, or none."""
    if not has_district:
        return "none"
    return "contains" if not distance_m else "nearest_district"


def method_sql(district: str, distance_m: str) -> str:
    """method() in SQL."""
    return (
        f"(CASE WHEN {district} IS NULL THEN 'none' WHEN {distance_m} = 0 THEN 'contains' ELSE 'nearest_district' END)"
    )


def reason_code(has_district: bool, has_city: bool, has_office: bool, distance_m: float | None) -> str:
    """Why the report went where it went (the key of routing.service.REASONS)."""
    if not has_district:
        return "triage_outside_districts" if has_city else "triage_outside_service_area"
    if not has_office:
        return "triage_no_office"
    return "routed_by_category" if not distance_m else "routed_nearest_district"


def reason_code_sql(district: str, city: str, office: str, distance_m: str) -> str:
    """reason_code() in SQL, tried in the same order."""
    return (
        f"(CASE WHEN {district} IS NULL AND {city} IS NULL THEN 'triage_outside_service_area' "
        f"WHEN {district} IS NULL THEN 'triage_outside_districts' "
        f"WHEN {office} IS NULL THEN 'triage_no_office' "
        f"WHEN {distance_m} = 0 THEN 'routed_by_category' ELSE 'routed_nearest_district' END)"
    )


def status_after(has_office: bool) -> str:
    """A routed report's status: with its office, or in the triage queue."""
    return "routed" if has_office else "triage"


def status_after_sql(office: str) -> str:
    """status_after() in SQL."""
    return f"(CASE WHEN {office} IS NULL THEN '{status_after(False)}' ELSE '{status_after(True)}' END)"


def reroutable_sql(alias: str) -> str:
    """Re-routing may move report row `alias`: routed automatically, and no office has acted on it yet."""
    return f"(NOT {alias}.routing_manual AND {report_status.in_sql(f'{alias}.status', report_status.REROUTABLE)})"
