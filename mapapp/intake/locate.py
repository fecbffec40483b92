"""Where a message is: its geotag, else a photo's GPS, else the places its text names.

Place names are the current districts and dong in Korean and English, with the short forms the
jurisdictions feature already knows ("합정동", "합정", "Hapjeong", "Mapo"), matched as it matches a typed
address (mapapp.jurisdictions.places), plus the gazetteer: landmarks, stations and roads a city loads
from CSV. Korean particles are taken off words first ("합정에서" names 합정). What the text names is
kept with a score for staff; a place is chosen only when the names agree on one district. The
precision says how much the point means: a landmark's point, or only a dong's or a district's
representative point, never passed off as where the problem is.
"""

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.intake.classify import fold
from mapapp.jurisdictions import places

# Endings that Korean glues to a place name: "합정동에서", "망원역 앞", "신림쪽".
PARTICLES = re.compile(r"(에서|에서는|에는|으로|에|의|은|는|이|가|을|를|쪽|근처|앞|인데|입니다|역|사거리|동네)$")
# Short forms that are also everyday words: "대학 앞" is not 대학동, "중앙" not 중앙동.
COMMON_WORDS = frozenset(
    {"대학", "중앙", "행운", "신원", "보라매", "청룡", "미성", "은천", "성현", "서원", "조원", "인헌"}
)
LEVEL_SCORE = {"landmark": 0.95, "dong": 0.9, "district": 0.85}


@dataclass(frozen=True)
class NamedPlace:
    """A place the text names: its level, how sure the name is, and the districts it may be in."""

    name: str
    level: str  # landmark | dong | district
    score: float
    district_ids: frozenset[int]
    lon: float
    lat: float
    area_id: int | None = None  # the dong or district itself
    exact_point: bool = False  # a landmark given as a point

    def to_public(self, district_codes: dict[int, str]) -> dict[str, Any]:
        """{name, level, score, district} for staff."""
        codes = sorted(district_codes[d] for d in self.district_ids if d in district_codes)
        return {"name": self.name, "level": self.level, "score": round(self.score, 2), "districts": codes}


@dataclass(frozen=True)
class Whereabouts:
    """Where a message is put: a point and how precise it is (none: the text names no single place)."""

    precision: str  # geotag | photo | landmark | dong | district | none
    lon: float | None = None
    lat: float | None = None
    district_id: int | None = None
    dong_id: int | None = None
    why: str = ""
    places: list[dict[str, Any]] = field(default_factory=list)

    @property
    def located(self) -> bool:
        return self.precision != "none"


@dataclass(frozen=True)
class _Entry:
    keys: tuple[tuple[str, bool], ...]  # (folded name, must it be a whole word)
    place: NamedPlace


@dataclass
class Gazetteer:
    """Everything the text may name, loaded once and kept while the jurisdictions and gazetteer stay the same."""

    version: tuple[Any, ...]
    entries: list[_Entry]
    district_codes: dict[int, str]
    dong_parent: dict[int, int]
    # Lookups built once: whole-word keys by the word, substring keys by their first two letters.
    by_word: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    by_start: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for i, entry in enumerate(self.entries):
            for key, whole in entry.keys:
                if whole:
                    self.by_word.setdefault(key, []).append((key, i))
                else:
                    self.by_start.setdefault(key[:2], []).append((key, i))


_cache: dict[str, Gazetteer] = {}
_lock = threading.Lock()

VERSION_SQL = text(
    """
    SELECT (SELECT count(*) FROM jurisdictions WHERE retired_at IS NULL),
           (SELECT coalesce(max(id), 0) FROM jurisdictions),
           (SELECT count(*) FROM gazetteer_places),
           (SELECT coalesce(max(id), 0) FROM gazetteer_places),
           (SELECT coalesce(max(created_at), now()) FROM gazetteer_places)
    """
)
# Each landmark with the districts it touches (a road may cross several) and a point on it.
GAZETTEER_SQL = text(
    """
    SELECT g.id, g.name, g.aliases, GeometryType(g.geom) = 'POINT' AS is_point,
           ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat,
           coalesce((SELECT array_agg(DISTINCT j.id) FROM jurisdictions j
                     WHERE j.level = 'district' AND j.retired_at IS NULL AND ST_Intersects(j.geom, g.geom)),
                    '{}') AS districts
    FROM gazetteer_places g
    """
)


def _load(session: Session, version: tuple[Any, ...]) -> Gazetteer:
    entries: list[_Entry] = []
    district_codes: dict[int, str] = {}
    dong_parent: dict[int, int] = {}
    for r in session.execute(places.AREAS_SQL):
        area = places.Area(r.id, r.code, r.level, r.name_ko, r.name_en)
        if r.level == "district":
            district_codes[r.id] = r.code
            districts = frozenset({r.id})
        else:
            dong_parent[r.id] = r.parent_id
            districts = frozenset({r.parent_id}) if r.parent_id is not None else frozenset()
        keys = tuple(
            (k, word)
            for k, word in [*((k, w) for k, w, _ in places._keys(area)), *_numbered_dong_keys(area)]
            if k and k not in COMMON_WORDS
        )
        label = r.name_ko if not r.name_en else f"{r.name_ko} ({r.name_en})"
        entries.append(
            _Entry(keys, NamedPlace(label, r.level, LEVEL_SCORE[r.level], districts, float(r.lon), float(r.lat), r.id))
        )
    for r in session.execute(GAZETTEER_SQL):
        names = [r.name, *(r.aliases or [])]
        keys = tuple((fold(n), len(fold(n)) < 3) for n in names if len(fold(n)) >= 2)
        entries.append(
            _Entry(
                keys,
                NamedPlace(
                    r.name,
                    "landmark",
                    LEVEL_SCORE["landmark"],
                    frozenset(r.districts),
                    float(r.lon),
                    float(r.lat),
                    exact_point=bool(r.is_point),
                ),
            )
        )
    return Gazetteer(version, entries, district_codes, dong_parent)


def _numbered_dong_keys(area: places.Area) -> list[tuple[str, bool]]:
    """How people name a numbered dong: 화곡1동 and 화곡본동 are "화곡동" or "화곡", "Hwagok-dong" or "Hwagok"."""
    if area.level != "dong":
        return []
    keys = []
    base_ko = re.sub(r"[\d·.,]+가?|본(?=동$)", "", area.name_ko)
    if base_ko != area.name_ko and len(base_ko) >= 2:
        keys.append((fold(base_ko), False))
        if len(base_ko) >= 3:
            keys.append((fold(base_ko.removesuffix("동")), True))
    base_en = re.sub(r"\d+(ga)?|bon(?=dong$)", "", fold(area.name_en or ""))
    if base_en != fold(area.name_en or "") and base_en.endswith("dong") and len(base_en) >= 6:
        keys.append((base_en, False))
        if len(base_en) >= 7:
            keys.append((base_en.removesuffix("dong"), True))
    return keys


def gazetteer(session: Session) -> Gazetteer:
    """The place names of the current database, reloaded when jurisdictions or the gazetteer change."""
    version = tuple(session.execute(VERSION_SQL).one())
    key = str(session.get_bind().engine.url)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.version == version:
            return cached
    loaded = _load(session, version)
    with _lock:
        _cache[key] = loaded
    return loaded


def _words(message: str) -> set[str]:
    """The folded words of a text, each also without a Korean particle glued to it."""
    words = set()
    for raw in re.split(r"[\s,()/!?.~#@·…\"']+", message):
        word = fold(raw)
        if not word:
            continue
        words.add(word)
        stripped = PARTICLES.sub("", word)
        while stripped and stripped != word:
            words.add(stripped)
            word, stripped = stripped, PARTICLES.sub("", stripped)
    return words


def named_places(message: str, known: Gazetteer) -> list[NamedPlace]:
    """Every district, dong and landmark the text names, a name inside a longer found name dropped."""
    folded, words = fold(message), _words(message)
    best: dict[int, str] = {}  # entry -> the longest of its names found
    hits = [hit for word in words for hit in known.by_word.get(word, ())]
    for i in range(len(folded) - 1):
        hits += [(k, e) for k, e in known.by_start.get(folded[i : i + 2], ()) if folded.startswith(k, i)]
    for key, entry in hits:
        if len(key) > len(best.get(entry, "")):
            best[entry] = key
    found = [(key, known.entries[entry].place) for entry, key in sorted(best.items())]
    # "마포구청" is found as 마포구 and 마포구청 (a landmark): the longer name is what was meant.
    keys = [k for k, _ in found]
    kept = [(k, p) for k, p in found if not any(k != other and k in other for other in keys)]
    return [p for _, p in kept]


def _one_district(candidates: list[NamedPlace]) -> int | None:
    districts = set().union(*(p.district_ids for p in candidates)) if candidates else set()
    return next(iter(districts)) if len(districts) == 1 else None


def locate_text(message: str, known: Gazetteer) -> Whereabouts:
    """The most precise place the names agree on, or 'none' with the candidates when they do not."""
    found = named_places(message, known)
    listed = [p.to_public(known.district_codes) for p in sorted(found, key=lambda p: (-p.score, p.name))]
    districts = [p for p in found if p.level == "district"]
    named = set().union(*(p.district_ids for p in districts)) if districts else set()

    def fits(p: NamedPlace) -> bool:
        return not named or bool(p.district_ids & named)

    for level in ("landmark", "dong"):
        options = [p for p in found if p.level == level and fits(p)]
        # A name that fits several places (신사동: three districts) counts only if one district holds them all.
        if len(options) == 1 and len(options[0].district_ids & named if named else options[0].district_ids) == 1:
            p = options[0]
            district = next(iter(p.district_ids & named if named else p.district_ids))
            if level == "landmark":
                precision = "landmark" if p.exact_point else "district"
                if precision == "district":  # an area (a park, a road): only its district is sure
                    return _district(known, district, listed, f"'{p.name}' is an area in one district")
                return Whereabouts("landmark", p.lon, p.lat, district, None, f"names '{p.name}'", listed)
            return Whereabouts("dong", p.lon, p.lat, district, p.area_id, f"names '{p.name}'", listed)
        if options and (shared := _one_district(options)) is not None:
            return _district(known, shared, listed, f"the {level} names found all lie in one district")
    if len(named) == 1:
        return _district(known, next(iter(named)), listed, "names the district")
    why = "names several districts" if named else ("names places in several districts" if found else "names no place")
    return Whereabouts("none", why=why, places=listed)


def _district(known: Gazetteer, district_id: int, listed: list[dict[str, Any]], why: str) -> Whereabouts:
    area = next(e.place for e in known.entries if e.place.level == "district" and e.place.area_id == district_id)
    return Whereabouts("district", area.lon, area.lat, district_id, None, why, listed)
