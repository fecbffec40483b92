"""CAP 1.2 (OASIS Common Alerting Protocol) for disaster layers while they are active.

One alert per active disaster layer: its state and banner in Korean and in English (two <info> blocks),
the area as the polygons of the city's districts (a layer is switched on for the whole city). The
identifier and the sent time come from the layer's newest activation, so the same activation is the
same message however often it is fetched, and a new activation (a new banner) is a new message.
Whether a layer is active is asked of layers.state, the one home of that rule.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from sqlalchemy import text
from sqlalchemy.orm import Session

from mapapp.core.errors import NotFound
from mapapp.core.settings import get_settings
from mapapp.layers.state import effective_state_sql

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_TYPE = "application/cap+xml"
# District outlines for alerting systems: ~50 m tolerance keeps a Seoul district to a few hundred points.
SIMPLIFY_DEGREES = 0.0005
LANGUAGES = {"ko": "ko-KR", "en": "en-US"}
WORDS = {
    "headline": {"ko": "{layer}: 시민 신고 접수 중", "en": "{layer}: citizen reports open"},
    "description": {"ko": "{layer} 레이어가 활성화되었습니다.", "en": "The {layer} layer is active."},
    "instruction": {
        "ko": "위험을 보면 지도에서 신고하세요: {url} 위급한 상황은 119에 신고하세요.",
        "en": "Report hazards on the map: {url} In an emergency call 119.",
    },
}


class NoActiveAlert(NotFound):
    """The layer is not a disaster layer that is active now: there is no alert for it."""

    code = "no_active_alert"


@dataclass(frozen=True)
class ActiveLayer:
    """A disaster layer that is on now, with its newest activation."""

    slug: str
    name: dict[str, str]
    banner: dict[str, str | None]
    until: datetime | None
    activation_id: int
    activated_at: datetime


def active_disaster_layers(session: Session, *, slug: str | None = None) -> list[ActiveLayer]:
    """The disaster layers in effect now (end time not passed), each with its newest activation."""
    sql = f"""
        SELECT l.slug, l.name_ko, l.name_en, l.banner_ko, l.banner_en, l.active_until, e.id AS event_id, e.created_at
        FROM layers l
        JOIN LATERAL (SELECT id, created_at FROM layer_events
                      WHERE layer_id = l.id AND kind = 'activated' ORDER BY created_at DESC, id DESC LIMIT 1) e ON true
        WHERE l.kind = 'disaster' AND {effective_state_sql("l")} = 'active'
          AND (CAST(:slug AS text) IS NULL OR l.slug = :slug)
        ORDER BY l.sort_order, l.slug
    """  # noqa: S608 - the state rule is fixed text from layers.state
    return [
        ActiveLayer(
            slug=row.slug,
            name={"ko": row.name_ko, "en": row.name_en},
            banner={"ko": row.banner_ko, "en": row.banner_en},
            until=row.active_until,
            activation_id=row.event_id,
            activated_at=row.created_at,
        )
        for row in session.execute(text(sql), {"slug": slug})
    ]


def cap_time(at: datetime) -> str:
    """CAP's date-time: seconds and a numeric offset, never 'Z' or fractions (in the city's time zone)."""
    return at.astimezone(ZoneInfo(get_settings().time_zone)).replace(microsecond=0).isoformat()


def _rings(geojson: str) -> list[str]:
    """CAP polygons ("lat,lon lat,lon …", closed, four pairs or more) from a (Multi)Polygon's outer rings."""
    geometry = json.loads(geojson)
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = []
    for polygon in polygons:
        outer = polygon[0]
        if len(outer) >= 4:
            rings.append(" ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in outer))
    return rings


def affected_districts(session: Session) -> list[dict[str, Any]]:
    """The city's districts (code, names, polygons): a disaster layer is switched on for the whole city."""
    rows = session.execute(
        text(
            "SELECT code, name_ko, name_en, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), 5) AS shape "
            "FROM jurisdictions WHERE level = 'district' AND retired_at IS NULL AND geom IS NOT NULL ORDER BY code"
        ),
        {"tol": SIMPLIFY_DEGREES},
    )
    return [{"code": r.code, "name": {"ko": r.name_ko, "en": r.name_en}, "polygons": _rings(r.shape)} for r in rows]


def _city_name(session: Session, locale: str) -> str:
    row = session.execute(
        text(
            "SELECT name_ko, name_en FROM jurisdictions WHERE level = 'city' AND retired_at IS NULL ORDER BY id LIMIT 1"
        )
    ).first()
    if row is None:
        return "mapapp"
    return str(row[0] if locale == "ko" else row[1])


def _add(parent: Any, name: str, value: str | None) -> Any:
    element = etree.SubElement(parent, f"{{{CAP_NS}}}{name}")
    if value is not None:
        element.text = value
    return element


def cap_alert(session: Session, *, slug: str) -> bytes:
    """The CAP 1.2 alert of an active disaster layer, as UTF-8 XML; NoActiveAlert when it is not on."""
    found = active_disaster_layers(session, slug=slug)
    if not found:
        raise NoActiveAlert(f"{slug!r} is not a disaster layer that is active now", layer=slug)
    layer = found[0]
    settings = get_settings()
    base = settings.public_base_url.rstrip("/")
    host = urlsplit(base).hostname or "localhost"
    sent = cap_time(layer.activated_at)
    map_url = f"{base}/?layer={layer.slug}"
    districts = affected_districts(session)

    alert = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    # No spaces, commas, '<' or '&' in identifier and sender (CAP 1.2, 3.2.1).
    _add(alert, "identifier", f"{host}.layer.{layer.slug}.{layer.activation_id}")
    _add(alert, "sender", settings.mail_from.replace(",", "").replace(" ", ""))
    _add(alert, "sent", sent)
    _add(alert, "status", "Actual")
    _add(alert, "msgType", "Alert")
    _add(alert, "scope", "Public")
    for locale in ("ko", "en"):
        name = layer.name[locale]
        info = _add(alert, "info", None)
        _add(info, "language", LANGUAGES[locale])
        _add(info, "category", "Safety")
        _add(info, "event", name)
        _add(info, "responseType", "Monitor")
        _add(info, "urgency", "Expected")
        _add(info, "severity", "Moderate")
        _add(info, "certainty", "Likely")
        _add(info, "effective", sent)
        if layer.until is not None:
            _add(info, "expires", cap_time(layer.until))
        _add(info, "senderName", _city_name(session, locale))
        _add(info, "headline", WORDS["headline"][locale].format(layer=name))
        _add(info, "description", layer.banner[locale] or WORDS["description"][locale].format(layer=name))
        _add(info, "instruction", WORDS["instruction"][locale].format(url=map_url))
        _add(info, "web", map_url)
        for district in districts:
            area = _add(info, "area", None)
            _add(area, "areaDesc", district["name"][locale])
            for ring in district["polygons"]:
                _add(area, "polygon", ring)
            geocode = _add(area, "geocode", None)
            _add(geocode, "valueName", "district_code")
            _add(geocode, "value", district["code"])
    return bytes(etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True))
