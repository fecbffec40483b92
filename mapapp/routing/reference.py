"""The routing lookup's reference data (jurisdiction names and parents, categories, offices), one copy per process.

A point inside a district is looked up in memory, in the district and dong parts held here; names and
the category's rule come from the same copy, so that the hot path asks the database for one short row
(the version) instead of two point-in-polygon probes and two dozen text columns. The copy is labelled with the
version in `routing_reference` (migration 0019), which every statement that changes jurisdictions,
offices or categories sets anew (its transaction id and a sequence number); each lookup returns the
current version with its ids, and a copy that does not match is loaded again.
"""

import itertools
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from mapapp.routing import rule

LOAD_SQL = (
    "SELECT (SELECT version FROM routing_reference), "
    "coalesce((SELECT json_agg(json_build_array(id, code, level, name_ko, name_en, parent_id)) "
    "          FROM jurisdictions), '[]'), "
    "coalesce((SELECT json_agg(json_build_array(id, slug, level, department, name_ko, name_en)) "
    "          FROM categories WHERE NOT retired), '[]'), "
    "coalesce((SELECT json_agg(json_build_array(id, slug, name_ko, name_en, jurisdiction_id, department)) "
    "          FROM offices WHERE active), '[]')"
)


@dataclass(frozen=True)
class Jurisdiction:
    id: int
    code: str
    level: str
    name_ko: str
    name_en: str
    parent_id: int | None


@dataclass(frozen=True)
class Category:
    id: int
    slug: str
    level: str
    department: str
    name_ko: str
    name_en: str


@dataclass(frozen=True)
class Office:
    id: int
    slug: str
    name_ko: str
    name_en: str


# The district and dong parts (jurisdiction_parts: the polygons cut into pieces of at most 255 vertices)
# for the lookup of a point inside a district, in memory. Points in a gap or outside every district
# take the SQL statement, which measures geodesic distances to the nearest district.
PARTS_SQL = (
    "SELECT level, jurisdiction_id, code, ST_AsBinary(geom) FROM jurisdiction_parts WHERE level IN ('district', 'dong')"
)


GRID_CELLS = 256  # along the longer side of the parts' extent: a few candidates per cell, a small dict


@dataclass(frozen=True)
class Parts:
    """The parts with a grid over their extent: each cell lists the parts whose bounding box touches it."""

    geoms: np.ndarray  # prepared shapely polygons
    levels: list[str]
    ids: list[int]
    codes: list[str]
    origin: tuple[float, float]
    size: float
    cells: dict[tuple[int, int], np.ndarray]

    def containing(self, lon: float, lat: float) -> dict[str, int]:
        """rule.part_containing_sql() in Python, for each level at once: {level: jurisdiction id}, lowest code
        on a shared border. GEOS decides here as it does inside PostGIS; tests/routing/test_reference_copy.py
        and test_single_equals_batch.py hold the two to the same answers."""
        candidates = self.cells.get(self._cell(lon, lat))
        if candidates is None:
            return {}
        found: dict[str, tuple[str, int]] = {}
        for i in candidates[shapely.intersects_xy(self.geoms[candidates], lon, lat)].tolist():
            level, code = self.levels[i], self.codes[i]
            if level not in found or code < found[level][0]:
                found[level] = (code, self.ids[i])
        return {level: jurisdiction_id for level, (_, jurisdiction_id) in found.items()}

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        # One expression for parts and points: monotonic, so a point inside a box falls in one of its cells.
        return math.floor((x - self.origin[0]) / self.size), math.floor((y - self.origin[1]) / self.size)


def _parts(rows: list[tuple[Any, ...]]) -> Parts:
    geoms = shapely.from_wkb([bytes(row[3]) for row in rows])
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms) if len(rows) else np.zeros((0, 4))
    origin = (float(bounds[:, 0].min()), float(bounds[:, 1].min())) if len(rows) else (0.0, 0.0)
    extent = max(float(bounds[:, 2].max()) - origin[0], float(bounds[:, 3].max()) - origin[1]) if len(rows) else 1.0
    parts = Parts(
        geoms, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], origin, extent / GRID_CELLS or 1.0, {}
    )
    members: dict[tuple[int, int], list[int]] = {}
    for i, (minx, miny, maxx, maxy) in enumerate(bounds.tolist()):
        (x0, y0), (x1, y1) = parts._cell(minx, miny), parts._cell(maxx, maxy)
        for cell in itertools.product(range(x0, x1 + 1), range(y0, y1 + 1)):
            members.setdefault(cell, []).append(i)
    parts.cells.update({cell: np.array(ids, dtype=np.intp) for cell, ids in members.items()})
    return parts


@dataclass(frozen=True)
class Reference:
    version: str
    jurisdictions: dict[int, Jurisdiction]
    categories: dict[str, Category]
    offices: dict[tuple[int, str], Office]  # (jurisdiction id, department) of active offices
    parts: Parts
    # Decisions made from this copy, shared by every lookup that lands on the same ids (read-only).
    decisions: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False)

    def office(self, category: Category, district_id: int | None, city_id: int | None) -> Office | None:
        """rule.office_match_sql() in Python: the category's department at its level, only with a district."""
        if district_id is None:
            return None
        responsible = rule.responsible_jurisdiction(category.level, district_id, city_id)
        return None if responsible is None else self.offices.get((responsible, category.department))


_lock = threading.Lock()
_copies: "OrderedDict[tuple[str, str], Reference]" = OrderedDict()
_KEEP = 8  # several databases in one process (tests, a replica): a few copies, the oldest dropped


def cached(database: str, version: str) -> Reference | None:
    """The copy of `database`'s reference data at `version`, if this process holds it."""
    return _copies.get((database, version))


def load(cursor: Any, database: str) -> Reference:
    """Read the reference data through `cursor` and keep it as the copy for its version."""
    cursor.execute(LOAD_SQL)
    version, jurisdictions, categories, offices = cursor.fetchone()
    cursor.execute(PARTS_SQL)
    reference = Reference(
        version,
        {row[0]: Jurisdiction(*row) for row in jurisdictions},
        {row[1]: Category(row[0], row[1], row[2], row[3], row[4], row[5]) for row in categories},
        {(row[4], row[5]): Office(row[0], row[1], row[2], row[3]) for row in offices},
        _parts(cursor.fetchall()),
    )
    with _lock:
        _copies[(database, reference.version)] = reference
        while len(_copies) > _KEEP:
            _copies.popitem(last=False)
    return reference
