"""The gazetteer: landmarks, stations and roads a message may name, loaded from CSV (`mapapp gazetteer import`).

Columns: `name`, `aliases` (separated by '|'), and either `geometry` (WKT: a POINT, or a POLYGON for an
area such as a park or a road) or `lon` and `lat`. An import replaces the whole gazetteer in one
transaction; a bad row fails it, naming the row, and changes nothing.
"""

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import Point
from shapely.validation import make_valid
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from mapapp.core.errors import InvalidInput
from mapapp.intake.models import GazetteerPlace


class InvalidGazetteerFile(InvalidInput):
    code = "invalid_gazetteer_file"


@dataclass(frozen=True)
class GazetteerRow:
    name: str
    aliases: list[str]
    wkt: str


def read_csv(path: Path) -> list[GazetteerRow]:
    """Read and check every row; all problems are reported together."""
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidGazetteerFile(f"{path}: cannot be read as UTF-8 text: {exc}") from None
    reader = csv.DictReader(io.StringIO(raw))
    columns = set(reader.fieldnames or [])
    if "name" not in columns or not ({"geometry"} <= columns or {"lon", "lat"} <= columns):
        raise InvalidGazetteerFile(f"{path}: expected the columns name, aliases and geometry (or lon and lat)")
    rows: list[GazetteerRow] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, record in enumerate(reader, start=2):
        name = (record.get("name") or "").strip()
        if not name:
            problems.append(f"line {number}: the name is empty")
            continue
        if name in seen:
            problems.append(f"line {number}: {name!r} appears twice")
            continue
        seen.add(name)
        try:
            geometry = _geometry(record)
        except ValueError as exc:
            problems.append(f"line {number} ({name}): {exc}")
            continue
        aliases = [a.strip() for a in (record.get("aliases") or "").split("|") if a.strip()]
        rows.append(GazetteerRow(name, aliases, geometry))
    if problems:
        raise InvalidGazetteerFile("invalid gazetteer rows:\n  " + "\n  ".join(problems), problems=problems)
    if not rows:
        raise InvalidGazetteerFile(f"{path}: no places")
    return rows


def _geometry(record: dict[str, str | None]) -> str:
    text = (record.get("geometry") or "").strip()
    if text:
        try:
            shape = wkt.loads(text)
        except (ShapelyError, ValueError):
            raise ValueError(f"not a WKT geometry: {text[:60]!r}") from None
    else:
        try:
            shape = Point(float(record.get("lon") or "nan"), float(record.get("lat") or "nan"))
        except ValueError:
            raise ValueError("lon and lat must be numbers") from None
    if shape.is_empty or shape.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise ValueError(f"expected a point or a polygon, got {shape.geom_type}")
    minx, miny, maxx, maxy = shape.bounds
    if not all(math.isfinite(v) for v in shape.bounds) or not (
        -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    ):
        raise ValueError("coordinates must be longitude and latitude (EPSG:4326)")
    if not shape.is_valid:
        shape = make_valid(shape)
    return str(shape.wkt)


def import_gazetteer(session: Session, rows: list[GazetteerRow]) -> int:
    """Replace the gazetteer with these places, in the caller's transaction; how many there are now."""
    session.execute(delete(GazetteerPlace))
    session.execute(
        insert(GazetteerPlace),
        [{"name": r.name, "aliases": r.aliases, "geom": f"SRID=4326;{r.wkt}"} for r in rows],
    )
    return len(rows)
