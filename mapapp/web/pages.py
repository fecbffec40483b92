"""Pages composed with folium (Leaflet), every asset from our own origin."""

from typing import Any

import folium
from branca.element import Element, Figure, JavascriptLink
from markupsafe import escape

from mapapp.core import i18n
from mapapp.core.settings import get_settings
from mapapp.web.security import add_nonce, json_for_html

LEAFLET_JS = [
    ("leaflet", "/static/vendor/leaflet/leaflet.js"),
    ("markercluster", "/static/vendor/markercluster/leaflet.markercluster.js"),
]
LEAFLET_CSS = [
    ("leaflet_css", "/static/vendor/leaflet/leaflet.css"),
    ("markercluster_css", "/static/vendor/markercluster/MarkerCluster.css"),
    ("markercluster_default_css", "/static/vendor/markercluster/MarkerCluster.Default.css"),
    ("app_css", "/static/css/app.css"),
]
CITY_CENTRE = (37.5665, 126.9780)


def _folium_map(zoom: int = 12, centre: tuple[float, float] = CITY_CENTRE) -> folium.Map:
    settings = get_settings()
    m = folium.Map(location=list(centre), zoom_start=zoom, tiles=None, control_scale=True, prefer_canvas=True)
    # folium points at CDNs by default; a city intranet has none of them.
    m.default_js = LEAFLET_JS
    m.default_css = LEAFLET_CSS
    if settings.tile_url:  # no tile server (a closed network): boundaries, reports and controls still work
        folium.TileLayer(
            tiles=settings.tile_url, attr=settings.tile_attribution, name="base", max_zoom=19, control=False
        ).add_to(m)
    return m


def map_page(*, locale: str, config: dict[str, Any], panel_html: str, title: str, nonce: str) -> str:
    """The map page (or widget): a folium map, our panel, and our scripts started once the map exists."""
    m = _folium_map(zoom=config.get("zoom", 12), centre=CITY_CENTRE)
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(Element(f"<title>{escape(title)}</title>"), name="title")
    figure.header.add_child(
        Element('<meta name="viewport" content="width=device-width, initial-scale=1">'), name="viewport_meta"
    )
    figure.html.add_child(Element(panel_html), name="panel")
    payload = config | {
        "mapName": m.get_name(),
        "locale": locale,
        "t": i18n.messages(locale),
        "errors": i18n.error_messages(locale),
    }
    # A data block, not a script: the CSP allows no inline script of ours; map.js and report.js read it.
    figure.header.add_child(
        Element(f'<script type="application/json" id="mapapp-config">{json_for_html(payload)}</script>'),
        name="mapapp_config",
    )
    figure.header.add_child(JavascriptLink("/static/js/map.js"), name="map_js")
    figure.header.add_child(JavascriptLink("/static/js/report.js"), name="report_js")
    # folium writes the map's own set-up as inline <script> and <style> blocks: they carry this answer's nonce.
    html = add_nonce(figure.render(), nonce)
    return html.replace("<html>", f'<html lang="{locale}">', 1)
