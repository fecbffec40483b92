"""Small builders that make test data readable."""

import json
from pathlib import Path
from typing import Any


def square(lon: float, lat: float, size: float) -> list[list[list[float]]]:
    """A square polygon ring (GeoJSON coordinates) with its south-west corner at lon, lat."""
    return [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]


def feature(props: dict[str, Any], geometry: dict[str, Any] | None) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def polygon(coords: list[list[list[float]]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": coords}


def write_geojson(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    """Write a FeatureCollection; `crs` adds the (pre-RFC 7946) crs member, e.g. EPSG:5179."""
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs.replace(':', '::')}"}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def district(code: str, name: str, coords: list[list[list[float]]]) -> dict[str, Any]:
    return feature({"code": code, "name": name, "name_en": name.upper()}, polygon(coords))
