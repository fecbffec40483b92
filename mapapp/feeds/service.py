"""Atom feeds (RFC 4287) of new and resolved reports, written with feedgen from public fields only.

A feed is one scope (a layer, a district, an office, or a point and a radius) and two kinds of entry:
a report arriving ("new") and a report resolved ("resolved"). Each entry's id is the report's page with
the kind as a fragment, so a reader sees a report once when it arrives and once when it is fixed.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from feedgen.feed import FeedGenerator
from lxml import etree
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core import status as report_status
from mapapp.core.errors import DomainError
from mapapp.core.settings import get_settings
from mapapp.feeds.scope import Scope
from mapapp.jurisdictions.service import JurisdictionNotFound
from mapapp.layers.service import UnknownCategory, UnknownLayer
from mapapp.offices.service import OfficeNotFound
from mapapp.reports import filters
from mapapp.reports.queries import FROM_SQL

ATOM = "application/atom+xml"
ATOM_NS = "http://www.w3.org/2005/Atom"
ENTRIES = 50
Kind = Literal["all", "new", "resolved"]
WORDS = {
    "new": {"ko": "새 신고", "en": "New report"},
    "resolved": {"ko": "처리 완료", "en": "Resolved"},
    "feed": {"ko": "새 신고와 처리 완료", "en": "new and resolved reports"},
    "city": {"ko": "도시 전체", "en": "Whole city"},
    "near": {"ko": "{lat:.5f}, {lon:.5f} 반경 {radius:.0f} m", "en": "Within {radius:.0f} m of {lat:.5f}, {lon:.5f}"},
    "office": {"ko": "담당", "en": "Office"},
    "triage": {"ko": "담당 부서 확인 중", "en": "Being assigned to an office"},
    "answer": {"ko": "답변", "en": "Answer"},
}

# The public columns of an entry; never the reporter's contact, the photo GPS or a private note.
ENTRY_COLUMNS = """
    r.id, r.public_id, r.created_at, r.resolved_at, r.updated_at, r.status, r.description,
    c.slug AS category, c.name_ko AS category_ko, c.name_en AS category_en, l.slug AS layer,
    d.name_ko AS district_ko, d.name_en AS district_en, o.name_ko AS office_ko, o.name_en AS office_en,
    ST_Y(r.geom) AS lat, ST_X(r.geom) AS lon"""


@dataclass(frozen=True)
class Entry:
    """One feed entry: a report arriving or being resolved."""

    kind: str
    at: datetime
    row: Any
    answer: str | None = None


def base_url() -> str:
    """The public address of this installation, without a trailing slash."""
    return get_settings().public_base_url.rstrip("/")


def _named_parts(scope: Scope) -> list[tuple[str | None, str, type[DomainError], str]]:
    """Each named part of a scope: its value, where its Korean and English names are, and the error if absent."""
    return [
        (scope.layer, "SELECT name_ko, name_en FROM layers WHERE slug = :v", UnknownLayer, "layer"),
        (scope.category, "SELECT name_ko, name_en FROM categories WHERE slug = :v", UnknownCategory, "category"),
        (
            scope.district,
            "SELECT name_ko, name_en FROM jurisdictions WHERE code = :v AND level = 'district' AND retired_at IS NULL",
            JurisdictionNotFound,
            "district",
        ),
        (scope.office, "SELECT name_ko, name_en FROM offices WHERE slug = :v", OfficeNotFound, "office"),
    ]


def scope_label(session: Session, scope: Scope, *, locale: str) -> str:
    """The scope in words ("마포구", "Flood", "Within 500 m of …"), checking that each name exists."""
    parts: list[str] = []
    for value, sql, missing, noun in _named_parts(scope):
        if not value:
            continue
        row = session.execute(text(sql), {"v": value}).first()
        if row is None:
            raise missing(f"there is no {noun} {value!r}", field=noun)
        parts.append(row[0] if locale == "ko" else row[1])
    if scope.near:
        n = scope.near
        parts.append(WORDS["near"][locale].format(lat=n.lat, lon=n.lon, radius=n.radius_m))
    return " · ".join(parts) or WORDS["city"][locale]


def feed_entries(session: Session, scope: Scope, *, kind: Kind = "all", limit: int = ENTRIES) -> list[Entry]:
    """The newest arrivals and resolutions in the scope, newest first, at most `limit`."""
    entries: list[Entry] = []
    if kind in ("all", "new"):
        where = scope.where(filters.Where(params={"limit": limit}))
        sql = f"""
            SELECT {ENTRY_COLUMNS} {FROM_SQL} WHERE {where.sql()} ORDER BY r.created_at DESC, r.id DESC LIMIT :limit
        """
        entries += [Entry("new", row.created_at, row) for row in session.execute(text(sql), where.params)]
    if kind in ("all", "resolved"):
        where = scope.where(filters.Where(params={"limit": limit}))
        where.add(report_status.is_sql("r.status", "resolved")).add("r.resolved_at IS NOT NULL")
        # The public answer: the note of the newest move to resolved.
        sql = f"""
            SELECT {ENTRY_COLUMNS},
                   (SELECT e.public_note FROM report_events e
                     WHERE e.report_id = r.id AND {report_status.is_sql("e.to_status", "resolved")}
                     ORDER BY e.created_at DESC, e.id DESC LIMIT 1) AS answer
            {FROM_SQL} WHERE {where.sql()} ORDER BY r.resolved_at DESC, r.id DESC LIMIT :limit
        """  # noqa: S608 - fixed clauses, bound values
        entries += [
            Entry("resolved", row.resolved_at, row, row.answer) for row in session.execute(text(sql), where.params)
        ]
    entries.sort(key=lambda e: (e.at, e.row.id), reverse=True)
    return entries[:limit]


def _pick(row: Any, name: str, locale: str) -> str | None:
    return getattr(row, f"{name}_{locale}")


def entry_title(entry: Entry, *, locale: str) -> str:
    """ "[새 신고] 가로등 고장 — 마포구"."""
    place = _pick(entry.row, "district", locale)
    title = f"[{WORDS[entry.kind][locale]}] {_pick(entry.row, 'category', locale)}"
    return f"{title} — {place}" if place else title


def entry_text(entry: Entry, *, locale: str) -> str:
    """The entry's plain-text summary: the citizen's public description, the office, the public answer."""
    row = entry.row
    office = _pick(row, "office", locale) or WORDS["triage"][locale]
    lines = [row.description.strip()[:500]] if row.description and row.description.strip() else []
    lines.append(f"{WORDS['office'][locale]}: {office}")
    if entry.answer:
        lines.append(f"{WORDS['answer'][locale]}: {entry.answer}")
    return "\n".join(lines)


def _serialise(fg: FeedGenerator, *, entry_link_type: str) -> bytes:
    """The feed's XML, each entry's link given its media type (feedgen 1.0 drops an entry link's rel and
    type; a link without rel is "alternate" anyway, but alerting systems look for the CAP type)."""
    root = etree.fromstring(fg.atom_str())
    for link in root.iterfind(f"{{{ATOM_NS}}}entry/{{{ATOM_NS}}}link"):
        link.set("rel", link.get("rel", "alternate"))
        link.set("type", link.get("type", entry_link_type))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def atom_feed(
    session: Session, scope: Scope, *, kind: Kind = "all", locale: str, self_url: str, alternate_url: str
) -> bytes:
    """The feed as UTF-8 Atom XML."""
    label = scope_label(session, scope, locale=locale)
    entries = feed_entries(session, scope, kind=kind)
    base = base_url()
    fg = FeedGenerator()
    fg.load_extension("geo", atom=True, rss=False)
    fg.id(self_url)
    fg.title(f"{label} — {WORDS['feed'][locale]}")
    fg.language(locale)
    fg.author({"name": get_settings().mail_from.partition("@")[0] or "mapapp"})
    fg.link(href=self_url, rel="self", type=ATOM)
    fg.link(href=alternate_url, rel="alternate", type="text/html")
    fg.generator("mapapp")
    # An empty feed is as new as now; otherwise as new as its newest entry (readers poll by this).
    fg.updated(entries[0].at if entries else datetime.now(UTC).replace(microsecond=0))
    for entry in reversed(entries):  # feedgen prepends: add oldest first so the newest is on top
        row = entry.row
        page = f"{base}/reports/{row.public_id}"
        fe = fg.add_entry()
        fe.id(f"{page}#{entry.kind}")
        fe.title(entry_title(entry, locale=locale))
        fe.link(href=page, rel="alternate", type="text/html")
        fe.updated(entry.at)
        fe.published(entry.at)
        fe.summary(entry_text(entry, locale=locale))
        fe.category(term=row.category, label=_pick(row, "category", locale))
        fe.geo.point(f"{row.lat:.6f} {row.lon:.6f}")
    return _serialise(fg, entry_link_type="text/html")


def cap_index(session: Session, *, locale: str, self_url: str) -> bytes:
    """An Atom feed with one entry per CAP alert in effect (how alerting systems poll CAP: the NWS way)."""
    from mapapp.feeds import cap

    base = base_url()
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title({"ko": "재난 레이어 경보 (CAP 1.2)", "en": "Disaster layer alerts (CAP 1.2)"}[locale])
    fg.language(locale)
    fg.author({"name": "mapapp"})
    fg.link(href=self_url, rel="self", type=ATOM)
    fg.link(href=f"{base}/", rel="alternate", type="text/html")
    fg.generator("mapapp")
    layers = cap.active_disaster_layers(session)
    fg.updated(max((a.activated_at for a in layers), default=datetime.now(UTC).replace(microsecond=0)))
    for layer in layers:
        href = f"{base}/feeds/cap/{layer.slug}.xml"
        fe = fg.add_entry()
        fe.id(f"{href}#{layer.activation_id}")
        fe.title(cap.WORDS["headline"][locale].format(layer=layer.name[locale]))
        fe.link(href=href, rel="alternate", type=cap.CAP_TYPE)
        fe.updated(layer.activated_at)
        fe.summary(layer.banner[locale] or cap.WORDS["description"][locale].format(layer=layer.name[locale]))
    return _serialise(fg, entry_link_type=cap.CAP_TYPE)


def discovery_links(session: Session, *, locale: str) -> list[dict[str, str]]:
    """The `<link rel="alternate">` of a page (feed autodiscovery): the city's feed, and while a disaster
    layer is on, its feed, its CAP alert and the CAP index. Render with templates/_feeds_head.html."""
    from mapapp.feeds import cap

    links = [
        {
            "type": ATOM,
            "href": f"/feeds/reports.atom?lang={locale}",
            "title": f"{WORDS['city'][locale]} — {WORDS['feed'][locale]}",
        }
    ]
    active = cap.active_disaster_layers(session)
    for layer in active:
        name = layer.name[locale]
        links.append(
            {
                "type": ATOM,
                "href": f"/feeds/reports.atom?layer={layer.slug}&lang={locale}",
                "title": f"{name} — {WORDS['feed'][locale]}",
            }
        )
        links.append({"type": cap.CAP_TYPE, "href": f"/feeds/cap/{layer.slug}.xml", "title": f"{name} (CAP 1.2)"})
    if active:
        links.append({"type": ATOM, "href": f"/feeds/cap.atom?lang={locale}", "title": "CAP 1.2 index"})
    return links
