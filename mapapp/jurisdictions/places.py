"""Places: which city, district and dong hold a point, and which dong or district a text names.

A report's place is read aloud and printed in two languages: "마포구 합정동" and "Hapjeong-dong, Mapo-gu".
A typed address is matched against the names of the current dong and districts (Korean or English, with
or without the district, with or without the "-dong" / "동" ending). What names no known area may go to an
optional Nominatim-compatible geocoder; what nothing can place is refused, never put somewhere at random.
"""

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.errors import InvalidInput
from mapapp.core.settings import get_settings


class AddressNotFound(InvalidInput):
    code = "address_not_found"


class AddressAmbiguous(InvalidInput):
    code = "address_ambiguous"


@dataclass(frozen=True)
class Area:
    """One jurisdiction, as a place is named by it."""

    id: int
    code: str
    level: str
    name_ko: str
    name_en: str

    def to_public(self) -> dict[str, Any]:
        """Code and names, for JSON."""
        return {"code": self.code, "name": {"ko": self.name_ko, "en": self.name_en}}


def place_label(
    locale: str,
    *,
    district: tuple[str | None, str | None] = (None, None),
    dong: tuple[str | None, str | None] = (None, None),
    city: tuple[str | None, str | None] = (None, None),
) -> str | None:
    """A place's name in one language: "마포구 합정동" (large to small) or "Hapjeong-dong, Mapo-gu" (small to large).

    Each argument is (Korean name, English name); the city names the place only when nothing finer does.
    """
    at = 0 if locale == "ko" else 1
    parts = [p for p in (district[at], dong[at]) if p]
    if not parts:
        return city[at] or None
    return " ".join(parts) if locale == "ko" else ", ".join(reversed(parts))


def place_labels(
    *,
    district: tuple[str | None, str | None] = (None, None),
    dong: tuple[str | None, str | None] = (None, None),
    city: tuple[str | None, str | None] = (None, None),
) -> dict[str, str] | None:
    """{"ko": ..., "en": ...} for a place, or None when no jurisdiction holds it."""
    ko = place_label("ko", district=district, dong=dong, city=city)
    en = place_label("en", district=district, dong=dong, city=city)
    return {"ko": ko, "en": en or ko} if ko else None


@dataclass(frozen=True)
class Place:
    """The jurisdictions a point lies in, at each level (None where there is none)."""

    city: Area | None
    district: Area | None
    dong: Area | None

    def labels(self) -> dict[str, str] | None:
        """The place's name in Korean and English."""
        return place_labels(district=_names(self.district), dong=_names(self.dong), city=_names(self.city))

    def to_public(self) -> dict[str, Any]:
        """City, district and dong with their names, and the place's name in both languages."""
        return {
            "city": self.city.to_public() if self.city else None,
            "district": self.district.to_public() if self.district else None,
            "dong": self.dong.to_public() if self.dong else None,
            "place": self.labels(),
        }


def _names(area: Area | None) -> tuple[str | None, str | None]:
    return (area.name_ko, area.name_en) if area else (None, None)


# The district as routing finds it (containing, else the nearest within the gap tolerance), so the place
# named to the citizen is the district the report goes to; the dong and the city that contain the point.
PLACE_SQL = text(
    """
    WITH pt AS (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS g),
    d AS (
        (SELECT p.jurisdiction_id AS id FROM jurisdiction_parts p, pt
         WHERE p.level = 'district' AND ST_Intersects(p.geom, pt.g) ORDER BY p.code LIMIT 1)
        UNION ALL
        (SELECT p.jurisdiction_id FROM jurisdiction_parts p, pt
         WHERE p.level = 'district' AND ST_DWithin(p.geom, pt.g, :deg)
           AND ST_Distance(p.geom::geography, pt.g::geography) <= :tolerance
         ORDER BY ST_Distance(p.geom::geography, pt.g::geography), p.code LIMIT 1)
        LIMIT 1
    ),
    g AS (SELECT p.jurisdiction_id AS id FROM jurisdiction_parts p, pt
          WHERE p.level = 'dong' AND ST_Intersects(p.geom, pt.g) ORDER BY p.code LIMIT 1),
    c AS (SELECT coalesce(
              (SELECT j.parent_id FROM jurisdictions j JOIN d ON d.id = j.id),
              (SELECT p.jurisdiction_id FROM jurisdiction_parts p, pt
               WHERE p.level = 'city' AND ST_Intersects(p.geom, pt.g) ORDER BY p.code LIMIT 1)) AS id)
    SELECT j.id, j.code, j.level, j.name_ko, j.name_en
    FROM jurisdictions j
    WHERE j.id IN (SELECT id FROM d UNION ALL SELECT id FROM g UNION ALL SELECT id FROM c)
    """
)


def place_at(session: Session, *, lon: float, lat: float) -> Place:
    """The city, district and dong a point lies in (each None where none does)."""
    from mapapp import routing  # routing imports jurisdictions; the point checks live there

    routing.check_coordinates(lon, lat)
    tolerance = get_settings().gap_tolerance_m
    rows = session.execute(
        PLACE_SQL,
        {"lon": lon, "lat": lat, "tolerance": tolerance, "deg": routing.tolerance_degrees(tolerance, lat)},
    ).all()
    found = {row.level: Area(row.id, row.code, row.level, row.name_ko, row.name_en) for row in rows}
    return Place(found.get("city"), found.get("district"), found.get("dong"))


# --- text → area ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Located:
    """Where a typed address puts a report: a point, how precise it is, and the area it names."""

    lon: float
    lat: float
    precision: str  # dong | district | geocoder
    area: Area | None = None
    district: Area | None = None


@dataclass(frozen=True)
class _Named:
    area: Area
    parent_id: int | None
    lon: float
    lat: float


AREAS_SQL = text(
    """
    SELECT j.id, j.code, j.level, j.name_ko, j.name_en, j.parent_id,
           ST_X(ST_PointOnSurface(j.geom)) AS lon, ST_Y(ST_PointOnSurface(j.geom)) AS lat
    FROM jurisdictions j
    WHERE j.level IN ('district', 'dong') AND j.retired_at IS NULL AND j.geom IS NOT NULL
    """
)
_SUFFIX_KO = {"dong": "동", "district": "구"}
_SUFFIX_EN = {"dong": "dong", "district": "gu"}


def _fold(value: str) -> str:
    """Lower case, letters and digits only: "Hapjeong-dong" and "hapjeong dong" fold alike."""
    return re.sub(r"[\W_·]+", "", value.lower())


def _tokens(value: str) -> set[str]:
    return {_fold(t) for t in re.split(r"[\s,()/]+", value) if _fold(t)}


def _keys(area: Area) -> list[tuple[str, bool, int]]:
    """(name, must it be a word of its own, rank) for each way the text may name the area.

    A full name ("합정동", "hapjeongdong") is distinctive enough to be found inside the text; a name
    without its ending ("합정", "hapjeong", "mapo") only as a whole word, and only when it is not too short.
    A legal dong's name ("역삼동" for 역삼1동 and 역삼2동) ranks below an area's own name ("신사동" is
    신사동 of Gangnam-gu or of Gwanak-gu before it is 신사1동 of Eunpyeong-gu).
    """
    keys = [(_fold(area.name_ko), False, 2)]
    en = _fold(area.name_en)
    if en:
        keys.append((en, False, 2))
    ko_stem = area.name_ko.removesuffix(_SUFFIX_KO[area.level])
    if ko_stem != area.name_ko and len(ko_stem) >= 2:
        keys.append((_fold(ko_stem), True, 2))
    en_stem = en.removesuffix(_SUFFIX_EN[area.level])
    if en_stem != en and len(en_stem) >= 3:
        keys.append((en_stem, True, 2))
    if area.level == "dong":
        base = re.sub(r"[\d·.,]+(?:가)?(?=동$)", "", area.name_ko)
        if base != area.name_ko and len(base) >= 2:
            keys.append((_fold(base), False, 1))
    return keys


def _matches(address: str, named: list[_Named]) -> list[tuple[tuple[int, int], _Named]]:
    """The areas the text names, each with its best (name length, rank) found."""
    folded, words = _fold(address), _tokens(address)
    found = []
    for n in named:
        scores = [(len(k), rank) for k, word, rank in _keys(n.area) if k and (k in words if word else k in folded)]
        if scores:
            found.append((max(scores), n))
    return found


def _label(n: _Named, districts: dict[int, _Named]) -> dict[str, Any]:
    parent = districts.get(n.parent_id) if n.parent_id is not None else None
    names = place_labels(
        district=_names(parent.area if parent else None) if n.area.level == "dong" else _names(n.area),
        dong=_names(n.area) if n.area.level == "dong" else (None, None),
    )
    return {"code": n.area.code, "level": n.area.level, "place": names}


def locate_text(session: Session, address: str) -> Located:
    """The dong or district a text names (its representative point), else the geocoder's answer.

    Raises AddressAmbiguous when the name fits several areas (two 신사동: say which district), and
    AddressNotFound when nothing names a known area and no geocoder places it.
    """
    named = [
        _Named(Area(r.id, r.code, r.level, r.name_ko, r.name_en), r.parent_id, float(r.lon), float(r.lat))
        for r in session.execute(AREAS_SQL)
    ]
    districts = {n.area.id: n for n in named if n.area.level == "district"}
    found = _matches(address, named)
    named_districts = [n for _, n in found if n.area.level == "district"]
    dong = [(s, n) for s, n in found if n.area.level == "dong"]
    if named_districts:
        ids = {n.area.id for n in named_districts}
        # A dong of another district than the one named is not meant ("마포구 신사동" has no 신사동).
        dong = [(s, n) for s, n in dong if n.parent_id in ids]
    if dong:
        best = max(s for s, _ in dong)
        chosen = [n for s, n in dong if s == best]
        if len(chosen) > 1:
            raise AddressAmbiguous(
                "several dong have this name; add the district (e.g. '강남구 신사동') or pick the point on the map",
                field="address",
                candidates=[_label(n, districts) for n in sorted(chosen, key=lambda n: n.area.code)],
            )
        n = chosen[0]
        parent = districts.get(n.parent_id) if n.parent_id is not None else None
        return Located(n.lon, n.lat, "dong", n.area, parent.area if parent else None)
    if len(named_districts) == 1:
        n = named_districts[0]
        return Located(n.lon, n.lat, "district", n.area, n.area)
    if len(named_districts) > 1:
        raise AddressAmbiguous(
            "the address names several districts; keep one, or pick the point on the map",
            field="address",
            candidates=[_label(n, districts) for n in sorted(named_districts, key=lambda n: n.area.code)],
        )
    point = geocode(address)
    if point is not None:
        return Located(point[0], point[1], "geocoder")
    raise AddressNotFound(
        "the address names no dong or district we know; pick the point on the map or type its coordinates",
        field="address",
    )


# --- the optional external geocoder ---------------------------------------------------------------


def geocode(address: str) -> tuple[float, float] | None:
    """(lon, lat) from the Nominatim-compatible geocoder in MAPAPP_GEOCODER_URL; None when off or unanswered."""
    settings = get_settings()
    if not settings.geocoder_url:
        return None
    query = urllib.parse.urlencode({"q": address, "format": "jsonv2", "limit": 1})
    request = urllib.request.Request(
        settings.geocoder_url.rstrip("/") + "/search?" + query,
        # Nominatim's usage policy asks every client to name itself.
        headers={"User-Agent": f"mapapp (+{settings.public_base_url})", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.geocoder_timeout_seconds) as response:
            results = json.loads(response.read(1024 * 1024))
        first = results[0] if isinstance(results, list) and results else None
        if not isinstance(first, dict):
            return None
        lon, lat = float(first["lon"]), float(first["lat"])
    except (OSError, ValueError, KeyError, TypeError):
        # Unreachable, slow, or an answer we cannot read: as if it knew nothing; the citizen picks the point.
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


# --- a stored report's place, read beside it ------------------------------------------------------

# Columns and joins that read a report's place beside it; `r` is the report.
REPORT_PLACE_COLUMNS = """pd.name_ko AS district_ko, pd.name_en AS district_en, pg.name_ko AS dong_ko,
       pg.name_en AS dong_en, pc.name_ko AS city_ko, pc.name_en AS city_en"""
REPORT_PLACE_JOINS = """
    LEFT JOIN jurisdictions pd ON pd.id = r.district_id
    LEFT JOIN jurisdictions pg ON pg.id = r.dong_id
    LEFT JOIN jurisdictions pc ON pc.id = r.city_id"""


def place_of_row(row: Any) -> dict[str, str] | None:
    """The place's names from a row read with REPORT_PLACE_COLUMNS."""
    return place_labels(
        district=(row["district_ko"], row["district_en"]),
        dong=(row["dong_ko"], row["dong_en"]),
        city=(row["city_ko"], row["city_en"]),
    )


FILL_REPORT_DONG_SQL = text(
    """
    UPDATE reports r SET dong_id = (
        SELECT p.jurisdiction_id FROM jurisdiction_parts p
        WHERE p.level = 'dong' AND ST_Intersects(p.geom, r.geom)
        ORDER BY p.code LIMIT 1)
    WHERE r.dong_id IS NULL AND r.location_precision <> 'district'
    """
)


def fill_report_dong(session: Session) -> int:
    """Give reports written in bulk (the demo, imports) the dong their point lies in; returns how many."""
    return session.execute(FILL_REPORT_DONG_SQL).rowcount or 0  # type: ignore[attr-defined]
