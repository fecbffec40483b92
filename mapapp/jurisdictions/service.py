"""Boundary import (any vector file, any CRS) and the jurisdiction hierarchy."""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import shapely
from geoalchemy2.shape import from_shape, to_shape
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mapapp.core.errors import Conflict, InvalidInput, NotFound
from mapapp.jurisdictions.models import LEVELS, Jurisdiction

PARENT_LEVEL = {"district": "city", "dong": "district"}
# Parts of at most this many vertices keep each point-in-polygon test cheap.
SUBDIVIDE_MAX_VERTICES = 255


class BoundaryFileError(InvalidInput):
    code = "invalid_boundary_file"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        full = message if not problems else message + ":\n  " + "\n  ".join(problems[:50])
        if problems and len(problems) > 50:
            full += f"\n  ... and {len(problems) - 50} more"
        super().__init__(full, problems=problems or [])
        self.problems = problems or []


class JurisdictionNotFound(NotFound):
    code = "unknown_jurisdiction"


class JurisdictionLevelConflict(Conflict):
    code = "jurisdiction_level_conflict"


@dataclass
class ImportSummary:
    level: str
    source_crs: str
    features: int = 0
    imported: int = 0
    vertices: int = 0
    repaired: int = 0
    merged: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    parts: int = 0


@dataclass
class _Feature:
    code: str
    name_ko: str
    name_en: str
    geom: MultiPolygon


def _as_code(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    """The polygonal part of a geometry as a MultiPolygon (make_valid can return collections)."""
    polygons: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            polygons.append(part)
        elif isinstance(part, MultiPolygon):
            polygons.extend(part.geoms)
        elif part.geom_type == "GeometryCollection":
            polygons.extend(_polygonal(part).geoms)
    return MultiPolygon([p for p in polygons if not p.is_empty])


def _resolve_crs(path: Path, file_crs: str | None, source_crs: str | None) -> CRS:
    label = source_crs or file_crs
    if not label:
        raise BoundaryFileError(
            f"{path.name} declares no coordinate reference system; pass --source-crs (e.g. EPSG:5179)"
        )
    try:
        return CRS.from_user_input(label)
    except CRSError as exc:
        where = "--source-crs" if source_crs else f"the CRS of {path.name}"
        raise BoundaryFileError(f"cannot resolve {where} {label!r}: {exc}") from exc


def _refuse_misdecoded_text(path: Path, names: Any) -> None:
    """A file without a declared encoding (a shapefile without .cpg) is read as Latin-1 by GDAL; Korean
    CP949 text then arrives as mojibake that would be stored silently. Refuse it, naming the fix."""
    for value in names[:200]:
        text = str(value) if value is not None else ""
        if not any("\x80" <= ch <= "\xff" for ch in text):
            continue
        for candidate in ("cp949", "utf-8"):
            try:
                decoded = text.encode("latin-1").decode(candidate)
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if any("\uac00" <= ch <= "\ud7a3" or "\u4e00" <= ch <= "\u9fff" for ch in decoded):
                raise BoundaryFileError(
                    f"{path.name}: its text is not declared and reads as {text[:20]!r}, which is "
                    f"{decoded[:20]!r} in {candidate}; pass --encoding {candidate}"
                )


def read_boundaries(
    path: Path,
    *,
    code_field: str,
    name_field: str,
    name_en_field: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    skip_invalid: bool = False,
    summary: ImportSummary | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[_Feature], ImportSummary]:
    """Read polygons from a vector file, reprojected to EPSG:4326 and made valid."""
    if not path.exists():
        raise BoundaryFileError(f"{path} does not exist")
    try:
        info = pyogrio.read_info(path, encoding=encoding)
        meta, _fids, wkbs, columns = pyogrio.raw.read(path, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise BoundaryFileError(f"{path.name} is not a vector file that can be read: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise BoundaryFileError(f"{path.name}: text fields are not in {encoding or 'UTF-8'}; pass --encoding") from exc
    fields = list(meta["fields"])
    if encoding is None and name_field in fields:
        _refuse_misdecoded_text(path, columns[fields.index(name_field)])
    for option, wanted in (
        ("--code-field", code_field),
        ("--name-field", name_field),
        ("--name-en-field", name_en_field),
    ):
        if wanted and wanted not in fields:
            raise BoundaryFileError(
                f"{path.name} has no field {wanted!r} ({option}); its fields are: {', '.join(fields)}"
            )
    crs = _resolve_crs(path, info.get("crs"), source_crs)
    wgs84 = CRS.from_epsg(4326)
    transformer = (
        None if crs.equals(wgs84, ignore_axis_order=True) else Transformer.from_crs(crs, wgs84, always_xy=True)
    )
    summary = summary or ImportSummary(level="", source_crs=crs.to_string())
    summary.source_crs = crs.to_string()

    codes = columns[fields.index(code_field)]
    names = columns[fields.index(name_field)]
    names_en = columns[fields.index(name_en_field)] if name_en_field else names
    problems: list[str] = []
    by_code: dict[str, _Feature] = {}
    total = len(wkbs)
    summary.features = total
    for i in range(total):
        code = _as_code(codes[i])
        label = f"feature {i + 1}" + (f" ({code_field}={code})" if code else "")
        problem = None
        geom: BaseGeometry | None = shapely.from_wkb(wkbs[i]) if wkbs[i] is not None else None
        name_ko = str(names[i]).strip() if names[i] is not None else ""
        if not code:
            problem = f"{label}: the code field {code_field!r} is empty"
        elif not name_ko:
            problem = f"{label}: the name field {name_field!r} is empty"
        elif geom is None or geom.is_empty:
            problem = f"{label}: has no geometry"
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problem = f"{label}: is a {geom.geom_type}; a Polygon or MultiPolygon is needed"
        if problem is None and geom is not None:
            if transformer is not None:
                geom = shapely.transform(geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))
            minx, miny, maxx, maxy = geom.bounds
            if (
                not all(map(math.isfinite, (minx, miny, maxx, maxy)))
                or minx < -180
                or maxx > 180
                or miny < -90
                or maxy > 90
            ):
                problem = (
                    f"{label}: coordinates fall outside longitude -180..180 / latitude -90..90 after reprojection "
                    f"from {crs.to_string()} (bounds {minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}); is the CRS right?"
                )
        if problem is None and geom is not None:
            if not geom.is_valid:
                geom = shapely.make_valid(geom)
                summary.repaired += 1
            polygons = _polygonal(geom)
            if polygons.is_empty:
                problem = f"{label}: nothing polygonal is left after repairing the geometry"
            else:
                summary.vertices += int(shapely.get_num_coordinates(polygons))
                name_en = str(names_en[i]).strip() if names_en[i] is not None else ""
                if code in by_code:
                    merged = shapely.union(by_code[code].geom, polygons)
                    by_code[code].geom = _polygonal(merged)
                    summary.merged += 1
                else:
                    by_code[code] = _Feature(code, name_ko, name_en or name_ko, polygons)
        if problem is not None:
            problems.append(problem)
        if progress is not None:
            progress(i + 1, total)
    if problems and not skip_invalid:
        raise BoundaryFileError(
            f"{path.name}: {len(problems)} of {total} features cannot be imported (nothing was changed; "
            "--skip-invalid imports the rest)",
            problems,
        )
    summary.skipped = problems
    if not by_code:
        raise BoundaryFileError(f"{path.name}: no feature can be imported", problems)
    return list(by_code.values()), summary


def import_boundaries(
    session: Session,
    *,
    path: Path,
    level: str,
    code_field: str,
    name_field: str,
    name_en_field: str | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    parent_code: str | None = None,
    skip_invalid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Replace one level of jurisdictions with the polygons of a file, in the caller's transaction."""
    if level not in LEVELS:
        raise BoundaryFileError(f"unknown level {level!r}; expected one of: {', '.join(LEVELS)}")
    summary = ImportSummary(level=level, source_crs="")
    features, summary = read_boundaries(
        path,
        code_field=code_field,
        name_field=name_field,
        name_en_field=name_en_field,
        source_crs=source_crs,
        encoding=encoding,
        skip_invalid=skip_invalid,
        summary=summary,
        progress=progress,
    )
    summary.level = level
    parent = get_jurisdiction_or_raise(session, code=parent_code) if parent_code else None
    existing = {
        j.code: j
        for j in session.scalars(select(Jurisdiction).where(Jurisdiction.code.in_([f.code for f in features])))
    }
    for feature in features:
        row = existing.get(feature.code)
        if row is not None and row.level != level:
            raise JurisdictionLevelConflict(
                f"code {feature.code} already belongs to a {row.level}, not a {level}", code=feature.code
            )
        if row is None:
            row = Jurisdiction(code=feature.code, level=level)
            session.add(row)
            summary.created.append(feature.code)
        else:
            summary.updated.append(feature.code)
        row.name_ko, row.name_en = feature.name_ko, feature.name_en
        if row.geom is None or row.retired_at is not None or not to_shape(row.geom).equals(feature.geom):
            if row.geom is not None and row.routed_geom is None:
                row.routed_geom = row.geom  # re-routing looks only at what this district lost
            row.geom = from_shape(feature.geom, srid=4326)
            row.updated_at = func.now()
        row.geometry_source = "imported"
        row.source = path.name
        row.retired_at = None
        if parent is not None:
            row.parent_id = parent.id
    session.flush()

    imported_codes = [f.code for f in features]
    retire = select(Jurisdiction).where(
        Jurisdiction.level == level,
        Jurisdiction.retired_at.is_(None),
        Jurisdiction.code.not_in(imported_codes),
    )
    if parent is not None:
        retire = retire.where(Jurisdiction.parent_id == parent.id)
    for gone in session.scalars(retire):
        if gone.routed_geom is None:
            gone.routed_geom = gone.geom
        gone.retired_at = func.now()
        summary.retired.append(gone.code)
    session.flush()

    rebuild_parts(session, level)
    if parent is None and level in PARENT_LEVEL:
        _assign_parents(session, level)
    _rebuild_derived_ancestors(session, level)
    summary.imported = len(features)
    summary.parts = session.execute(
        text("SELECT count(*) FROM jurisdiction_parts WHERE level = :level"), {"level": level}
    ).scalar_one()
    return summary


def rebuild_parts(session: Session, level: str) -> None:
    """Cut the current jurisdictions of a level into the small parts that routing tests against."""
    session.execute(text("DELETE FROM jurisdiction_parts WHERE level = :level"), {"level": level})
    session.execute(
        text(
            """
            INSERT INTO jurisdiction_parts (jurisdiction_id, level, code, geom)
            SELECT j.id, j.level, j.code, (ST_Dump(ST_Subdivide(j.geom, :max_vertices))).geom
            FROM jurisdictions j
            WHERE j.level = :level AND j.retired_at IS NULL AND j.geom IS NOT NULL
            """
        ),
        {"level": level, "max_vertices": SUBDIVIDE_MAX_VERTICES},
    )
    session.execute(text("ANALYZE jurisdiction_parts"))  # the planner must know how many parts there are


def _assign_parents(session: Session, level: str) -> None:
    """Give each jurisdiction of `level` the parent-level jurisdiction that contains it."""
    parent_level = PARENT_LEVEL[level]
    session.execute(
        text(
            """
            UPDATE jurisdictions c SET parent_id = (
                SELECT p.jurisdiction_id FROM jurisdiction_parts p
                WHERE p.level = :parent_level AND ST_Intersects(p.geom, ST_PointOnSurface(c.geom))
                ORDER BY p.code LIMIT 1)
            WHERE c.level = :level AND c.retired_at IS NULL
            """
        ),
        {"level": level, "parent_level": parent_level},
    )
    # A single city drawn only as the union of its districts has no polygon to test against yet.
    only_parent = session.scalars(
        select(Jurisdiction.id).where(Jurisdiction.level == parent_level, Jurisdiction.retired_at.is_(None))
    ).all()
    if len(only_parent) == 1:
        session.execute(
            text("UPDATE jurisdictions SET parent_id = :pid WHERE level = :level AND parent_id IS NULL"),
            {"pid": only_parent[0], "level": level},
        )


def _rebuild_derived_ancestors(session: Session, level: str) -> None:
    """Recompute the geometry of 'derived' ancestors as the union of their children."""
    parent_level = PARENT_LEVEL.get(level)
    while parent_level is not None:
        result = session.execute(
            text(
                """
                UPDATE jurisdictions p SET geom = u.geom, updated_at = now()
                FROM (
                    SELECT c.parent_id, ST_Multi(ST_CollectionExtract(ST_Union(c.geom), 3)) AS geom
                    FROM jurisdictions c
                    WHERE c.level = :child_level AND c.retired_at IS NULL AND c.geom IS NOT NULL
                    GROUP BY c.parent_id
                ) u
                WHERE p.id = u.parent_id AND p.geometry_source = 'derived'
                """
            ),
            {"child_level": level},
        )
        if result.rowcount:  # type: ignore[attr-defined]
            rebuild_parts(session, parent_level)
        level, parent_level = parent_level, PARENT_LEVEL.get(parent_level)


def create_jurisdiction(
    session: Session, *, code: str, name_ko: str, name_en: str, level: str, parent_code: str | None = None
) -> Jurisdiction:
    """A jurisdiction without a polygon of its own: its geometry is the union of its children."""
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}; expected one of: {', '.join(LEVELS)}", level=level)
    if session.scalar(select(Jurisdiction).where(Jurisdiction.code == code)) is not None:
        raise Conflict(f"a jurisdiction with code {code} already exists", code=code)
    parent = get_jurisdiction_or_raise(session, code=parent_code) if parent_code else None
    row = Jurisdiction(
        code=code,
        name_ko=name_ko,
        name_en=name_en,
        level=level,
        parent_id=parent.id if parent else None,
        geometry_source="derived",
        source="cli",
    )
    session.add(row)
    session.flush()
    return row


def get_jurisdiction_or_raise(session: Session, *, code: str) -> Jurisdiction:
    """The jurisdiction with this code, or JurisdictionNotFound."""
    row = session.scalar(select(Jurisdiction).where(Jurisdiction.code == code))
    if row is None:
        raise JurisdictionNotFound(f"there is no jurisdiction with code {code!r}", code=code)
    return row


def boundaries_summary(session: Session) -> list[dict[str, Any]]:
    """Per level: how many jurisdictions, retired ones, subdivided parts and vertices."""
    rows = session.execute(
        text(
            """
            SELECT j.level,
                   count(*) FILTER (WHERE j.retired_at IS NULL) AS active,
                   count(*) FILTER (WHERE j.retired_at IS NOT NULL) AS retired,
                   coalesce(sum(ST_NPoints(j.geom)) FILTER (WHERE j.retired_at IS NULL), 0) AS vertices,
                   (SELECT count(*) FROM jurisdiction_parts p WHERE p.level = j.level) AS parts
            FROM jurisdictions j
            GROUP BY j.level
            ORDER BY array_position(ARRAY['city', 'district', 'dong'], j.level::text)
            """
        )
    )
    return [dict(r._mapping) for r in rows]


def districts_geojson(session: Session, *, code: str | None = None) -> str:
    """District outlines as a GeoJSON FeatureCollection, simplified for the map, built in SQL."""
    return session.execute(
        text(
            """
            SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
                'type', 'Feature', 'id', j.code,
                'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(j.geom, 0.0001), 5)::json,
                'properties', json_build_object('code', j.code, 'name_ko', j.name_ko, 'name_en', j.name_en)
            ) ORDER BY j.code), '[]'::json))::text
            FROM jurisdictions j
            WHERE j.level = 'district' AND j.retired_at IS NULL AND j.geom IS NOT NULL
              AND (CAST(:code AS text) IS NULL OR j.code = :code)
            """
        ),
        {"code": code},
    ).scalar_one()
