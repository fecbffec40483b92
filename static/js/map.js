// The map: switchable layers, district boundaries, and every report from our vector tiles (clusters with
// their true counts at city zooms, points coloured by status with popups at street zooms). Runs once folium
// has created the Leaflet map; static/js/mvt.js decodes the tiles.
(function () {
  "use strict";
  // The page's settings and texts, from the JSON data block the server writes (no inline script: CSP).
  const C = window.common.config;  // the page's settings and texts (common.js reads the JSON block)
  const { esc, name, api } = window.common;
  const t = C.t;
  const COLORS = C.statusColors;  // status group -> colour, from the server (mapapp.core.status)
  const OLD_CLOSED_DAYS = 30;
  const state = { map: null, groups: {}, layers: [], showOld: false, boundaries: null, labels: null, control: null,
                  messages: {}, tilesShown: null, categoryNames: {}, layersKnown: false };

  function daysSince(iso) { return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 86400000)); }

  // A report's popup, first from what its tile says, then (once fetched) with its photo.
  function popupHtml(p) {
    const category = state.categoryNames[p.category] || p.category_name;
    const img = p.thumbnail ? `<img src="${esc(api(p.thumbnail))}" alt="${esc(t.photo_alt)}: ${esc(name(category))}">` : "";
    const status = t["status_" + p.status_group] || p.status;
    const age = p.created_at ? daysSince(p.created_at) : p.age_days;
    return `<div class="popup">${img}<strong>${esc(name(category))}</strong><br>` +
      `<span class="dot ${esc(p.status_group)}"></span>${esc(status)}` +
      `<div class="meta">${esc(age)} ${esc(t.age_days)} · ${esc(p.supporters)} ${esc(t.supporters)}</div>` +
      `<a href="${esc(api("/reports/" + encodeURIComponent(p.id)))}" target="${C.embed ? "_blank" : "_self"}">${esc(t.details)}</a></div>`;
  }

  function marker(feature) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const finished = C.closedGroups.includes(p.status_group);
    const m = L.circleMarker([lat, lon], {
      radius: finished ? 6 : 8, color: "#ffffff", weight: 2, fillColor: COLORS[p.status_group] || "#2563eb",
      fillOpacity: finished ? 0.55 : 0.95, dashArray: finished ? "2 3" : null,
    });
    m.feature = { type: "Feature", id: p.id, geometry: feature.geometry, properties: p };
    m.bindPopup(() => popupHtml(p));
    m.on("popupopen", async () => {  // the photo and the exact age are not in the tile: ask for the report
      try {
        const res = await fetch(api("/api/reports/" + encodeURIComponent(p.id)));
        if (res.ok && m.isPopupOpen()) m.setPopupContent(popupHtml((await res.json()).properties));
      } catch (e) { console.warn("mapapp: report not fetched", e); }
    });
    m.options.alt = name(state.categoryNames[p.category]);
    return m;
  }

  // Where a cluster's click goes: two zooms in, and no further than the street zooms where points begin (a
  // lone report goes straight there); in a street tile too dense for points (clusters there too), two zooms in.
  function zoomInFrom(zoom, lone) {
    if (zoom < C.clusterBelowZoom) return lone ? C.clusterBelowZoom : Math.min(zoom + 2, C.clusterBelowZoom);
    return Math.min(zoom + 2, state.map.getMaxZoom());
  }

  // Every report below the street zooms, and in street tiles too dense for points, is in a cluster with its
  // true count; a click zooms in on it.
  function clusterMarker(feature) {
    const n = feature.properties.count;
    const [lon, lat] = feature.geometry.coordinates;
    if (n === 1) {  // a lone report: its status colour, as a point; a click zooms in to the point itself
      const group = C.statusGroups.find((g) => feature.properties[g] === 1);
      const finished = C.closedGroups.includes(group);
      const dot = L.circleMarker([lat, lon], {
        radius: finished ? 5 : 7, color: "#ffffff", weight: 2, fillColor: COLORS[group] || "#2563eb",
        fillOpacity: finished ? 0.55 : 0.95, dashArray: finished ? "2 3" : null,
      });
      dot.feature = { type: "Feature", id: null, geometry: feature.geometry, properties: feature.properties };
      dot.clusterCount = 1;
      dot.on("click", () => state.map.setView(dot.getLatLng(), zoomInFrom(state.map.getZoom(), true)));
      return dot;
    }
    const label = n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
    const size = n < 10 ? "small" : n < 100 ? "medium" : "large";
    const m = L.marker([lat, lon], {
      icon: L.divIcon({ html: `<div><span>${esc(label)}</span></div>`, className: `marker-cluster marker-cluster-${size}`,
                        iconSize: L.point(40, 40) }),
      title: `${n.toLocaleString(C.locale)} ${t.cluster_reports}`, alt: `${n} ${t.cluster_reports}`,
    });
    m.feature = { type: "Feature", id: null, geometry: feature.geometry, properties: feature.properties };
    m.clusterCount = n;
    m.on("click", () => state.map.setView(m.getLatLng(), zoomInFrom(state.map.getZoom(), false)));
    return m;
  }

  // Old closed reports are hidden until asked for; clusters always count every report (the legend says so).
  function visible(p) {
    return state.showOld || p.status_group !== "closed" || p.updated_days <= OLD_CLOSED_DAYS;
  }

  // Vector tiles: the view's tiles at the map's zoom, clusters below C.clusterBelowZoom, report points from
  // there up (clusters again in a tile too dense for points, so the map reads tiles of its own zoom up to
  // POINT_TILE_ZOOM, where the densest streets have thinned out; past it, it keeps reading those).
  const POINT_TILE_ZOOM = 18;
  function viewTiles() {
    const map = state.map;
    const z = Math.max(0, Math.min(POINT_TILE_ZOOM, Math.round(map.getZoom())));
    const b = map.getBounds(), n = 2 ** z;
    const nw = map.project(b.getNorthWest(), z).divideBy(256).floor();
    const se = map.project(b.getSouthEast(), z).divideBy(256).floor();
    const keys = [];
    for (let x = Math.max(0, nw.x); x <= Math.min(n - 1, se.x); x++) {
      for (let y = Math.max(0, nw.y); y <= Math.min(n - 1, se.y); y++) keys.push(`${z}/${x}/${y}`);
    }
    return keys;
  }

  // The filters of the page's own address (status, category, since) go to the tile URLs.
  function tileQuery() {
    const page = new URLSearchParams(window.location.search), query = new URLSearchParams();
    page.getAll("status").forEach((s) => query.append("status", s));
    ["category", "since"].forEach((k) => { if (page.get(k)) query.set(k, page.get(k)); });
    const q = query.toString();
    return q ? "?" + q : "";
  }

  function drawTile(group, key, tile) {
    (tile.markers || []).forEach((m) => group.removeLayer(m));
    tile.markers = (tile.clusters || []).map(clusterMarker)
      .concat((tile.points || []).filter((f) => visible(f.properties)).map(marker));
    tile.markers.forEach((m) => group.addLayer(m));
  }

  // How many reports the view shows for a layer: points drawn and hidden, plus the clusters' counts.
  function tally(group) {
    const out = { tiles: 0, points: 0, hidden: 0, clustered: 0, total: 0 };
    group.tiles.forEach((tile) => {
      if (!tile.loaded) return;
      out.tiles += 1;
      const shown = tile.points.filter((f) => visible(f.properties)).length;
      out.points += shown;
      out.hidden += tile.points.length - shown;
      out.clustered += tile.clusters.reduce((sum, f) => sum + f.properties.count, 0);
    });
    out.total = out.points + out.hidden + out.clustered;
    return out;
  }

  async function loadTile(slug, group, key, fresh) {
    const [z, x, y] = key.split("/").map(Number);
    // A reload asks the server again (If-None-Match): a report just sent must show at once.
    const res = await fetch(api(`/tiles/${encodeURIComponent(slug)}/${key}.mvt${tileQuery()}`),
                            fresh ? { cache: "no-cache" } : {});
    if (!res.ok) throw new Error(`tile ${key}: ${res.status}`);
    const decoded = window.mapappTiles.decode(await res.arrayBuffer(), z, x, y);
    const tile = group.tiles.get(key);
    if (!tile || state.groups[slug] !== group) return;  // the view moved on while it loaded
    tile.clusters = decoded.clusters || [];
    tile.points = decoded.reports || [];
    tile.loaded = true;
    drawTile(group, key, tile);
    // Counted as each tile lands, not when its batch settles: a batch also waits for tiles the view has
    // since dropped, and until then the count would lag behind the tiles on the map.
    group.represented = tally(group);
  }

  let loadTimer = null;
  function scheduleLoad() { clearTimeout(loadTimer); loadTimer = setTimeout(() => loadReports(false), 150); }

  async function loadReports(fresh) {
    const keys = viewTiles();
    const wanted = new Set(keys);
    const loads = [];
    Object.entries(state.groups).forEach(([slug, group]) => {
      if (!state.map.hasLayer(group)) return;
      group.tiles.forEach((tile, key) => {  // tiles out of view, or of another zoom, leave the map
        if (!wanted.has(key)) { (tile.markers || []).forEach((m) => group.removeLayer(m)); group.tiles.delete(key); }
      });
      group.represented = tally(group);
      const todo = keys.filter((key) => fresh === true || !group.tiles.has(key));
      todo.forEach((key) => { if (!group.tiles.has(key)) group.tiles.set(key, { loaded: false }); });
      loads.push(Promise.allSettled(todo.map((key) => loadTile(slug, group, key, fresh === true))).then((results) => {
        const failed = results.filter((r) => r.status === "rejected");
        if (failed.length) console.warn("mapapp: tiles not loaded", failed.map((r) => String(r.reason)));
        group.represented = tally(group);
        group.fire("mapapp:loaded", { count: group.represented.total, failed: failed.length });
      }));
    });
    await Promise.all(loads);
    document.dispatchEvent(new CustomEvent("mapapp:reports-loaded"));
  }

  function renderBanners() {
    const box = document.getElementById("banners");
    if (!box) return;
    box.innerHTML = "";
    state.layers.filter((l) => l.kind === "disaster" && l.banner).forEach((l) => {
      const div = document.createElement("div");
      div.className = "banner " + l.slug;
      div.setAttribute("role", "status");
      div.textContent = `${name(l.name)}: ${name(l.banner)}`;
      box.appendChild(div);
    });
  }

  function syncLayers(layers) {
    const wanted = layers.filter((l) => !C.layer || l.slug === C.layer);
    const slugs = new Set(wanted.map((l) => l.slug));
    Object.keys(state.groups).forEach((slug) => {   // a deactivated layer leaves the map
      if (!slugs.has(slug)) {
        state.control.removeLayer(state.groups[slug]);
        state.map.removeLayer(state.groups[slug]);
        delete state.groups[slug];
      }
    });
    wanted.forEach((l) => {                            // an activated one appears, switched on
      if (state.groups[l.slug]) return;
      const group = L.featureGroup();
      group.layerSlug = l.slug;
      group.tiles = new Map();  // "z/x/y" -> its decoded clusters and points, and their markers
      group.on("add", () => loadReports(false));
      state.groups[l.slug] = group;
      state.control.addOverlay(group, `<span data-layer="${esc(l.slug)}">${esc(name(l.name))}</span>`);
      group.addTo(state.map);
    });
    state.layers = wanted;
    state.layersKnown = true;
    wanted.forEach((l) => l.categories.forEach((c) => { state.categoryNames[c.slug] = c.name; }));
    // A widget of one layer that is switched off would be an empty map: say so instead.
    if (C.layer) setMessage("layer", wanted.length ? null : t.layer_not_active);
    renderBanners();
    document.dispatchEvent(new CustomEvent("mapapp:layers", { detail: wanted }));
  }

  async function refreshLayers(first) {
    try {
      const res = await fetch(api("/api/layers"));
      if (!res.ok) return;
      const before = Object.keys(state.groups).sort().join();
      syncLayers((await res.json()).layers);
      if (first || Object.keys(state.groups).sort().join() !== before) loadReports(false);
    } catch (e) { console.warn("mapapp: layers not refreshed", e); }
  }

  async function loadBoundaries() {
    const url = "/api/jurisdictions/districts" + (C.district ? `?code=${encodeURIComponent(C.district)}` : "");
    const res = await fetch(api(url));
    if (!res.ok) return;
    const data = await res.json();
    state.boundaries = L.geoJSON(data, {
      style: { color: "#334155", weight: 1.5, fill: false, dashArray: "4 4" }, interactive: false,
    });
    state.control.addOverlay(state.boundaries, esc(t.boundaries));
    state.boundaries.addTo(state.map);
    if (state.labels) state.labels.addTo(state.map);
    if (C.district && data.features.length) state.map.fitBounds(state.boundaries.getBounds());
  }

  function legend() {
    const box = document.getElementById("legend");
    if (!box) return;
    const items = C.statusGroups.map((g) =>
      `<li><span class="dot ${g}"></span>${esc(t["status_" + g])}</li>`).join("");
    box.innerHTML = `<h2>${esc(t.legend)}</h2><ul>${items}</ul>` +
      `<label><input type="checkbox" id="show-old"> ${esc(t.show_old)}</label>`;
    box.querySelector("#show-old").addEventListener("change", (e) => { state.showOld = e.target.checked; redraw(); });
    // A control in the same corner as the scale bar: Leaflet stacks them, so the scale never covers the
    // checkbox, whatever the screen size; clicks on it do not place a pin.
    const Legend = L.Control.extend({ onAdd: () => box });
    new Legend({ position: "bottomleft" }).addTo(state.map);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
  }

  // Whether every tile of the view is in, for every layer on the map (tests and bench/map_browser.py wait on it).
  function complete() {
    if (!state.layersKnown) return false;  // before the layer list arrives there is nothing to wait for yet
    const keys = viewTiles();
    return Object.values(state.groups).every((g) => !state.map.hasLayer(g) ||
      keys.every((key) => g.tiles.has(key) && g.tiles.get(key).loaded));
  }

  // The old-closed switch: the tiles are already here, only which points are drawn changes.
  function redraw() {
    Object.values(state.groups).forEach((group) => {
      group.tiles.forEach((tile, key) => { if (tile.loaded) drawTile(group, key, tile); });
      group.represented = tally(group);
    });
  }

  // Notices over the map (no city yet, the widget's layer is off), one element, newest reasons kept by key.
  function setMessage(key, text) {
    if (text) state.messages[key] = text; else delete state.messages[key];
    const box = document.getElementById("map-message");
    if (!box) return;
    const texts = Object.values(state.messages);
    box.textContent = texts.join(" ");
    box.hidden = texts.length === 0;
  }

  // District names at each district's point on surface, in the page's language. A name is drawn only when
  // its district is about as wide on screen as the name, and not over a larger district's name, so a
  // zoomed-out city is not a heap of words.
  function districtLabels() {
    if (!C.labels || !C.labels.length) return;
    state.map.createPane("labels").style.zIndex = 350;  // above the tiles, under reports and their clusters
    state.labels = L.layerGroup();
    C.labels.forEach((l) => {
      const m = L.marker([l.lat, l.lon], {
        pane: "labels", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "district-label", html: `<span>${esc(l.name)}</span>`, iconSize: null }),
      });
      m.labelBox = L.latLngBounds([l.box[1], l.box[0]], [l.box[3], l.box[2]]);
      state.labels.addLayer(m);
    });
    const fit = () => {
      const shown = [];
      const candidates = state.labels.getLayers().filter((m) => m.getElement()).map((m) => {
        const sw = state.map.latLngToContainerPoint(m.labelBox.getSouthWest());
        const ne = state.map.latLngToContainerPoint(m.labelBox.getNorthEast());
        m.getElement().hidden = false;
        return { m, w: Math.abs(ne.x - sw.x), h: Math.abs(ne.y - sw.y) };
      }).sort((a, b) => b.w * b.h - a.w * a.h);
      candidates.forEach((c) => {
        const r = c.m.getElement().firstChild.getBoundingClientRect();
        const crowded = shown.some((o) => r.left < o.right + 4 && o.left < r.right + 4 && r.top < o.bottom && o.top < r.bottom);
        const fits = c.w >= r.width * 0.9;
        c.m.getElement().hidden = crowded || !fits;
        if (!c.m.getElement().hidden) shown.push(r);
      });
    };
    state.map.on("zoomend", fit);
    state.labels.on("add", () => setTimeout(fit, 0));
    // The labels come and go with the boundaries overlay (one switch in the layer control).
    state.map.on("overlayadd", (e) => { if (e.layer === state.boundaries) state.labels.addTo(state.map); });
    state.map.on("overlayremove", (e) => { if (e.layer === state.boundaries) state.map.removeLayer(state.labels); });
  }

  // The base map comes from the configured tile server, not from us: when its tiles do not load (offline,
  // blocked), say so, and credit the tile source only while its tiles are on screen.
  function watchTiles() {
    const notice = document.getElementById("tiles-notice");
    state.map.eachLayer((layer) => {
      if (!(layer instanceof L.TileLayer)) return;
      const credit = layer.getAttribution && layer.getAttribution();
      const control = state.map.attributionControl;
      let credited = true;  // Leaflet credited the layer when folium added it
      const show = (ok) => {
        state.tilesShown = ok;
        if (notice) notice.hidden = ok;
        if (control && credit && ok !== credited) {
          if (ok) control.addAttribution(credit); else control.removeAttribution(credit);
          credited = ok;
        }
      };
      const anyShown = () => !!layer.getContainer() && !!layer.getContainer().querySelector("img.leaflet-tile-loaded");
      // Tiles may have settled before this script ran.
      const settled = layer.getContainer() ? layer.getContainer().querySelectorAll("img") : [];
      if (anyShown()) show(true);
      else {
        if (credit && control) { control.removeAttribution(credit); credited = false; }
        if (Array.from(settled).some((img) => img.complete && !img.naturalWidth)) show(false);
      }
      layer.on("tileload", () => show(true));
      layer.on("tileerror", () => { if (!anyShown()) show(false); });
    });
  }

  // The pin the citizen places must stay in sight: not under the top bar, the banners, or the report
  // sheet (a bottom sheet on phones, a side panel on wider screens).
  function keepInView(latlng) {
    const map = state.map;
    const box = map.getContainer().getBoundingClientRect();
    const pad = { top: 10, right: 10, bottom: 10, left: 10 };
    const top = document.getElementById("top");
    if (top) pad.top = Math.max(pad.top, top.getBoundingClientRect().bottom - box.top + 10);
    pad.top += 45;  // the pin's icon stands above its point
    const sheet = document.getElementById("report-panel");
    if (sheet && !sheet.hidden) {
      const r = sheet.getBoundingClientRect();
      if (r.width >= box.width - 2) pad.bottom = Math.max(pad.bottom, box.bottom - r.top + 20);
      else if (r.left > box.left + box.width / 2) pad.right = Math.max(pad.right, box.right - r.left + 20);
    }
    if (box.height - pad.top - pad.bottom < 20 || box.width - pad.left - pad.right < 20) return;
    map.panInside(latlng, { paddingTopLeft: [pad.left, pad.top], paddingBottomRight: [pad.right, pad.bottom] });
  }

  function followPin() {
    let timer = null;
    const later = (marker) => {
      clearTimeout(timer);
      // After the caller's own setView (a photo's or the device's position), and after any zoom animation.
      timer = setTimeout(() => {
        if (!state.map.hasLayer(marker)) return;
        if (state.map._animatingZoom) state.map.once("zoomend", () => keepInView(marker.getLatLng()));
        else keepInView(marker.getLatLng());
      }, 0);
    };
    state.map.on("layeradd", (e) => {
      const m = e.layer;
      if (!(m instanceof L.Marker) || !m.options.draggable || m.pinFollowed) return;  // the report form's pin
      m.pinFollowed = true;
      let dragging = false;
      m.on("dragstart", () => { dragging = true; });
      m.on("dragend", () => { dragging = false; later(m); });
      m.on("move", () => { if (!dragging) later(m); });
      later(m);
    });
    // A sent report has no location any more: the form must not still say "location set".
    const clear = () => { const s = document.getElementById("pin-status"); if (s) s.textContent = ""; };
    const form = document.getElementById("report-form");
    if (form) form.addEventListener("reset", clear);
    document.addEventListener("mapapp:report-sent", clear);
  }

  function start() {
    state.map = window[C.mapName];
    window.mapappMap = state.map;
    // Clustering needs a maximum zoom; without a tile layer (no tile server) the map has none.
    if (!isFinite(state.map.getMaxZoom())) state.map.setMaxZoom(19);
    state.control = L.control.layers(null, {}, { collapsed: window.innerWidth < 640, position: "bottomright" })
      .addTo(state.map);
    state.map.on("moveend", scheduleLoad);
    legend();
    watchTiles();
    districtLabels();
    followPin();
    if (!C.extent) setMessage("city", t.no_city);  // no city yet: a world view and what to do
    loadBoundaries();
    refreshLayers(true);
    // Disaster layers are switched on and off by the city: pick the change up within seconds.
    setInterval(() => refreshLayers(false), C.refreshSeconds ? C.refreshSeconds * 1000 : 15000);
    window.mapapp = { reload: () => loadReports(true), refreshLayers: () => refreshLayers(false), complete, state };
    document.dispatchEvent(new CustomEvent("mapapp:ready", { detail: state.map }));
  }

  document.addEventListener("DOMContentLoaded", start);
})();
