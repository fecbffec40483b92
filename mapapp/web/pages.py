"""Pages composed with folium (Leaflet), every asset from our own origin."""

from typing import Any

import folium
from branca.element import Element, Figure, JavascriptLink
from markupsafe import escape

from mapapp.core import i18n
from mapapp.core import status as report_status
from mapapp.core.settings import get_settings
from mapapp.web.security import add_nonce, json_for_html

LEAFLET_JS = [
    ("leaflet", "/static/vendor/leaflet/leaflet.js"),
]
LEAFLET_CSS = [
    ("leaflet_css", "/static/vendor/leaflet/leaflet.css"),
    ("markercluster_css", "/static/vendor/markercluster/MarkerCluster.css"),
    ("markercluster_default_css", "/static/vendor/markercluster/MarkerCluster.Default.css"),
    ("app_css", "/static/css/app.css"),
]
IMPORT_MAP = {"imports": {"@mapbox/point-geometry": "/static/vendor/point-geometry/index.js"}}
# The marker colour of each public status group (the CSS dots use the same colours).
STATUS_COLORS = {"open": "#dc2626", "in_progress": "#f59e0b", "resolved": "#16a34a", "closed": "#6b7280"}
# Before any city exists: the whole world, and a notice saying what to do.
WORLD_CENTRE = (20.0, 0.0)
WORLD_ZOOM = 2
# The map's own words (notices drawn by map.js), added to the page's texts.
MAP_MESSAGES: dict[str, dict[str, str]] = {
    "tiles_unavailable": {
        "ko": "배경 지도를 불러올 수 없습니다. 신고는 그대로 할 수 있습니다.",
        "en": "Base map unavailable: reports still work.",
    },
    "layer_not_active": {
        "ko": "이 레이어는 지금 활성화되어 있지 않습니다.",
        "en": "This layer is not active now.",
    },
    "cluster_reports": {"ko": "건의 신고 (눌러서 확대)", "en": "reports (click to zoom in)"},
    "no_city": {
        "ko": "아직 도시가 없습니다. 관리자가 경계를 가져오면(mapapp boundaries import) 지도가 그 도시에서 열립니다.",
        "en": "No city yet: once an administrator imports its boundaries (mapapp boundaries import), "
        "the map opens on it.",
    },
}


def map_messages(locale: str) -> dict[str, str]:
    """The map's notices in one language."""
    return {key: value[locale] for key, value in MAP_MESSAGES.items()}


def _folium_map(extent: list[float] | None) -> folium.Map:
    settings = get_settings()
    if extent:
        west, south, east, north = extent
        centre, zoom = ((south + north) / 2, (west + east) / 2), 11
    else:
        centre, zoom = WORLD_CENTRE, WORLD_ZOOM
    m = folium.Map(location=list(centre), zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=True)
    # folium points at CDNs by default; a city intranet has none of them.
    m.default_js = LEAFLET_JS
    m.default_css = LEAFLET_CSS
    if settings.tile_url:  # no tile server (a closed network): boundaries, reports and controls still work
        folium.TileLayer(
            tiles=settings.tile_url, attr=settings.tile_attribution, name="base", max_zoom=19, control=False
        ).add_to(m)
    if extent:  # the configured city's own extent, from its boundaries: no city is assumed
        m.fit_bounds([[extent[1], extent[0]], [extent[3], extent[2]]])
    return m


def map_page(
    *, locale: str, config: dict[str, Any], panel_html: str, title: str, nonce: str, head_html: str = ""
) -> str:
    """The map page (or widget): a folium map, our panel, and our scripts started once the map exists.

    `config["extent"]` ([west, south, east, north], or None before any city exists) is where the map opens.
    """
    m = _folium_map(config.get("extent"))
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(Element(f"<title>{escape(title)}</title>"), name="title")
    figure.header.add_child(
        Element('<meta name="viewport" content="width=device-width, initial-scale=1">'), name="viewport_meta"
    )
    figure.html.add_child(Element(panel_html), name="panel")
    figure.header.add_child(Element(head_html), name="feeds_head")  # feed autodiscovery (_feeds_head.html)
    payload = config | {
        "mapName": m.get_name(),
        "locale": locale,
        "t": i18n.messages(locale) | map_messages(locale),
        "errors": i18n.error_messages(locale),
        # The status groups in legend order, their colours, and which are drawn as finished: from core.status.
        "statusGroups": list(report_status.GROUPS),
        "closedGroups": list(report_status.CLOSED_GROUPS),
        "statusColors": STATUS_COLORS,
        # Below this zoom the tiles carry clusters (mapapp.tiles), from it up report points.
        "clusterBelowZoom": get_settings().tiles_cluster_below_zoom,
    }
    # A data block, not a script: the CSP allows no inline script of ours; map.js and report.js read it.
    figure.header.add_child(
        Element(f'<script type="application/json" id="mapapp-config">{json_for_html(payload)}</script>'),
        name="mapapp_config",
    )
    # The tile decoder is an ES module from npm; the import map names where its own import is served.
    figure.header.add_child(
        Element(f'<script type="importmap" nonce="{nonce}">{json_for_html(IMPORT_MAP)}</script>'), name="import_map"
    )
    figure.header.add_child(Element('<script type="module" src="/static/js/mvt.js"></script>'), name="mvt_js")
    figure.header.add_child(JavascriptLink("/static/js/common.js"), name="common_js")
    figure.header.add_child(JavascriptLink("/static/js/map.js"), name="map_js")
    figure.header.add_child(JavascriptLink("/static/js/report.js"), name="report_js")
    # folium writes the map's own set-up as inline <script> and <style> blocks: they carry this answer's nonce.
    html = add_nonce(figure.render(), nonce)
    return html.replace("<html>", f'<html lang="{locale}">', 1)
