"""Build the demo's shipped boundary files from the full-resolution originals (run by
scripts/simplify_boundaries.py; the demo itself only reads the result).

Districts come from southkorea/seoul-maps (2015), dong from vuski/admdongkor (2021). The two draw
some borders differently (mid-river lines, ridges), so the dong are cut to the district their code
names and whatever of a district no dong covers goes to the neighbouring dong of that district:
dong then nest exactly in the districts. Gaps and overlaps between the original districts are
resolved first. The dong are simplified as one coverage (shared borders stay shared) and the
districts are their dissolve, so no simplification can open a gap or move a point across a border
that the two levels disagree on.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from mapapp.demo.romanize import dong_name_en

# Visvalingam–Whyatt tolerance in degrees (about 40 m): the square root of the smallest triangle kept.
TOLERANCE = 0.0004
DECIMALS = 5  # about 1 m


@dataclass
class Area:
    code: str
    name_ko: str
    name_en: str
    geom: BaseGeometry
    parent: str = ""


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    out: list[Polygon] = []
    for part in shapely.get_parts(geom):
        if isinstance(part, Polygon):
            out.append(part)
        elif isinstance(part, MultiPolygon | shapely.GeometryCollection):
            out += _polygons(part)
    return [p for p in out if not p.is_empty and p.area > 0]


def _multi(geom: BaseGeometry) -> MultiPolygon:
    return MultiPolygon(_polygons(geom))


def faces(districts: list[Area], dong: list[Area]) -> list[Polygon]:
    """The smallest pieces that both sets of borders cut the plane into (noded once, so they tile exactly)."""
    lines = shapely.union_all([shapely.boundary(a.geom) for a in [*districts, *dong]])
    return list(shapely.polygonize(shapely.get_parts(lines)).geoms)


def _within(points: Any, areas: list[Area]) -> tuple[Any, Any]:
    """Pairs (point index, area index) of points inside areas."""
    found = shapely.STRtree([a.geom for a in areas]).query(points, predicate="within")
    return found[0], found[1]


def nest(districts: list[Area], dong: list[Area]) -> list[Area]:
    """The dong, made of whole faces, nesting exactly in the districts and tiling the city.

    A face inside a dong of the district it lies in belongs to that dong. A face the two sources
    disagree on (a dong's piece across its district's border, a district's piece under no dong of
    its own, a gap between the original districts) goes to the dong of its district that it shares
    the longest border with; where districts overlap, the lower code keeps the face.
    """
    districts = sorted(districts, key=lambda a: a.code)
    dong = sorted(dong, key=lambda a: a.code)
    city = shapely.union_all([a.geom for a in districts])
    city = MultiPolygon([Polygon(p.exterior) for p in _polygons(city)])  # the city has no holes
    cells = [f for f in faces(districts, dong) if city.covers(f.point_on_surface())]
    points = shapely.point_on_surface(cells)
    district_of: list[str | None] = [None] * len(cells)
    for i, k in sorted(zip(*_within(points, districts), strict=True), key=lambda ik: (ik[0], -int(ik[1]))):
        district_of[i] = districts[k].code  # on an overlap the lowest code is written last
    owner: list[int | None] = [None] * len(cells)
    for i, k in zip(*_within(points, dong), strict=True):
        if dong[k].parent == district_of[i]:
            owner[i] = int(k)
    tree = shapely.STRtree(cells)
    pending = [i for i, o in enumerate(owner) if o is None]
    while pending:
        still: list[int] = []
        for i in pending:
            best: tuple[float, int] | None = None
            for j in tree.query(cells[i], predicate="intersects"):
                o = owner[int(j)]
                if o is None or (district_of[i] is not None and dong[o].parent != district_of[i]):
                    continue
                shared = cells[i].boundary.intersection(cells[int(j)].boundary).length
                if shared > 0 and (best is None or shared > best[0]):
                    best = (shared, o)
            if best is None:
                still.append(i)
            else:
                owner[i] = best[1]
        if len(still) == len(pending):  # cut off from every dong of its district: the nearest one takes it
            for i in still:
                candidates = [k for k, d in enumerate(dong) if district_of[i] in (None, d.parent)]
                owner[i] = min(candidates, key=lambda k: dong[k].geom.distance(cells[i]))
            still = []
        pending = still
    _merge_crumbs(cells, owner, dong, tree)
    out = []
    for k, d in enumerate(dong):
        mine = [cells[i] for i, o in enumerate(owner) if o == k]
        out.append(Area(d.code, d.name_ko, d.name_en, _multi(shapely.coverage_union_all(mine)), d.parent))
    return out


def _merge_crumbs(cells: list[Polygon], owner: list[Any], dong: list[Area], tree: shapely.STRtree) -> None:
    """A dong's small detached piece (a sliver across a border the sources disagree on) joins the
    neighbour of the same district it touches most, so every dong is one piece where it can be."""
    for k, d in enumerate(dong):
        mine = [i for i, o in enumerate(owner) if o == k]
        parts = _polygons(shapely.coverage_union_all([cells[i] for i in mine]))
        if len(parts) < 2:
            continue
        largest = max(parts, key=lambda p: p.area)
        for part in parts:
            if part is largest or part.area >= 0.05 * largest.area:
                continue
            shared: dict[int, float] = {}
            for j in tree.query(part, predicate="intersects"):
                o = owner[int(j)]
                if o is not None and o != k and dong[o].parent == d.parent:
                    shared[o] = shared.get(o, 0.0) + part.boundary.intersection(cells[int(j)].boundary).length
            if shared and max(shared.values()) > 0:
                to = max(shared, key=lambda o: (shared[o], -o))
                for i in mine:
                    if part.covers(cells[i].point_on_surface()):
                        owner[i] = to


def _rounded(geom: BaseGeometry) -> MultiPolygon:
    rounded = shapely.set_precision(geom, 10**-DECIMALS, mode="pointwise")
    return _multi(rounded if rounded.is_valid else shapely.make_valid(rounded))


def simplify(dong: list[Area], districts: list[Area]) -> tuple[list[Area], list[Area]]:
    """The dong simplified as one coverage, and the districts as the dissolve of their dong."""
    simplified = shapely.coverage_simplify([d.geom for d in dong], TOLERANCE)
    small = [Area(d.code, d.name_ko, d.name_en, _rounded(g), d.parent) for d, g in zip(dong, simplified, strict=True)]
    dissolved = [
        Area(
            a.code,
            a.name_ko,
            a.name_en,
            _multi(shapely.coverage_union_all([d.geom for d in small if d.parent == a.code])),
        )
        for a in districts
    ]
    return small, dissolved


def read_districts(path: Path) -> list[Area]:
    """Seoul's districts from seoul_gu_2015.geojson (southkorea/seoul-maps)."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return [
        Area(
            f["properties"]["SIG_CD"],
            f["properties"]["SIG_KOR_NM"],
            f["properties"]["SIG_ENG_NM"],
            shapely.make_valid(shape(f["geometry"])),
        )
        for f in features
    ]


def read_dong(path: Path) -> list[Area]:
    """Seoul's administrative dong from seoul_admin_dong_2021.geojson (vuski/admdongkor)."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    out = []
    for f in features:
        props = f["properties"]
        name_ko = props["adm_nm"].split()[-1]  # "서울특별시 종로구 사직동" → "사직동"
        out.append(
            Area(
                props["adm_cd2"], name_ko, dong_name_en(name_ko), shapely.make_valid(shape(f["geometry"])), props["sgg"]
            )
        )
    return out


def feature_collection(areas: list[Area], *, source: str) -> str:
    """Compact GeoJSON, one feature per line, coordinates rounded."""
    lines = []
    for a in areas:
        props: dict[str, Any] = {"code": a.code, "name_ko": a.name_ko, "name_en": a.name_en}
        if a.parent:
            props["district"] = a.parent
        geometry = json.loads(shapely.to_geojson(a.geom))
        feature = {"type": "Feature", "properties": props, "geometry": _round_coords(geometry)}
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    head = json.dumps({"type": "FeatureCollection", "source": source}, ensure_ascii=False, separators=(",", ":"))
    return head[:-1] + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def _round_coords(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _round_coords(v) for k, v in value.items()}
    if isinstance(value, list):
        if value and isinstance(value[0], float | int):
            return [round(float(v), DECIMALS) for v in value]
        return [_round_coords(v) for v in value]
    return value


def build(source_dir: Path, out_dir: Path) -> dict[str, int]:
    """Write districts.geojson and dong.geojson into out_dir; answer their vertex counts and sizes."""
    districts = read_districts(source_dir / "seoul_gu_2015.geojson")
    dong = nest(districts, read_dong(source_dir / "seoul_admin_dong_2021.geojson"))
    small_dong, small_districts = simplify(dong, districts)
    out_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, int] = {}
    for name, areas, source in (
        ("districts", small_districts, "southkorea/seoul-maps seoul_gu_2015 (Apache-2.0), simplified; see NOTICE"),
        ("dong", small_dong, "vuski/admdongkor 2021 (free use with attribution), simplified; see NOTICE"),
    ):
        text = feature_collection(areas, source=source)
        (out_dir / f"{name}.geojson").write_text(text, encoding="utf-8")
        figures[f"{name}_features"] = len(areas)
        figures[f"{name}_vertices"] = int(sum(shapely.get_num_coordinates(a.geom) for a in areas))
        figures[f"{name}_bytes"] = len(text.encode("utf-8"))
    return figures
