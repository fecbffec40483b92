"""OpenAPI descriptions of the answers that are passed through as bytes (GeoJSON built in SQL)."""

from typing import Any

from mapapp.core import status as report_status

GEOJSON = "application/geo+json"


def feature_collection(description: str, properties: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for an endpoint answering an RFC 7946 FeatureCollection whose features carry `properties`."""
    feature = {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object", "description": "RFC 7946 geometry, WGS84 longitude/latitude"},
            "properties": {"type": "object", "properties": properties},
        },
    }
    schema = {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": feature},
            "links": {"type": "array", "description": "rel=next: the next page, when there is one"},
        },
    }
    return {200: {"description": description, "content": {GEOJSON: {"schema": schema}}}}


_TEXT = {"type": "string"}
_LOCALIZED = {"type": "object", "properties": {"ko": _TEXT, "en": _TEXT}}

REPORT_PROPERTIES: dict[str, Any] = {
    "id": _TEXT,
    "layer": _TEXT,
    "category": _TEXT,
    "category_name": _LOCALIZED,
    "color": _TEXT,
    "icon": _TEXT,
    "status": _TEXT,
    "status_group": {"type": "string", "enum": list(report_status.GROUPS)},
    "close_reason": {"type": "string", "nullable": True},
    "office": {"type": "string", "nullable": True},
    "office_name": {**_LOCALIZED, "nullable": True},
    "district": {"type": "string", "nullable": True},
    "supporters": {"type": "integer"},
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
    "thumbnail": {"type": "string", "nullable": True},
}
DISTRICT_PROPERTIES: dict[str, Any] = {"code": _TEXT, "name_ko": _TEXT, "name_en": _TEXT}
