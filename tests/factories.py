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


def make_photo(
    *,
    lat: float | None = None,
    lon: float | None = None,
    size: tuple[int, int] = (1200, 900),
    fmt: str = "JPEG",
    orientation: int | None = None,
    color: tuple[int, int, int] = (200, 120, 40),
) -> bytes:
    """A project-made photo: a gradient with a dark block in the top-left corner, optional GPS."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    for x in range(0, size[0], 40):
        draw.line([(x, 0), (x, size[1])], fill=(x % 255, 80, 160), width=8)
    draw.rectangle([0, 0, size[0] // 4, size[1] // 4], fill=(10, 10, 10))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    if lat is not None and lon is not None:

        def dms(value: float) -> tuple[float, float, float]:
            value = abs(value)
            d = int(value)
            m = int((value - d) * 60)
            return (float(d), float(m), round((value - d - m / 60) * 3600, 4))

        gps = exif.get_ifd(0x8825)
        gps.update({1: "N" if lat >= 0 else "S", 2: dms(lat), 3: "E" if lon >= 0 else "W", 4: dms(lon)})
        exif[0x8769] = {36867: "2026:11:24 10:30:00"}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes() if len(exif) else b"")
    return out.getvalue()


def office_id(session: Any, slug: str | None) -> int | None:
    """The id of the office with this slug (for creating its staff), or None for no office."""
    from mapapp.offices import service as offices

    return offices.get_office_or_raise(session, slug=slug).id if slug else None
