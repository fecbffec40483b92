// The map: switchable layers, district boundaries, reports loaded by the visible box and clustered,
// coloured by status, with popups. Runs once folium has created the Leaflet map.
(function () {
  "use strict";
  // The page's settings and texts, from the JSON data block the server writes (no inline script: CSP).
  const C = window.MAPAPP || (window.MAPAPP = JSON.parse(document.getElementById("mapapp-config").textContent));
  const t = C.t;
  const COLORS = { open: "#dc2626", in_progress: "#f59e0b", resolved: "#16a34a", closed: "#6b7280" };
  const OLD_CLOSED_DAYS = 30;
  const state = { map: null, groups: {}, layers: [], showOld: false, boundaries: null, control: null };

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function name(obj) { return obj ? (obj[C.locale] || obj.en || obj.ko || "") : ""; }
  function daysSince(iso) { return Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 86400000)); }
  function api(path) { return (C.apiBase || "") + path; }

  function popupHtml(p) {
    const img = p.thumbnail ? `<img src="${esc(api(p.thumbnail))}" alt="${esc(t.photo_alt)}: ${esc(name(p.category_name))}">` : "";
    const status = t["status_" + p.status_group] || p.status;
    return `<div class="popup">${img}<strong>${esc(name(p.category_name))}</strong><br>` +
      `<span class="dot ${esc(p.status_group)}"></span>${esc(status)}` +
      `<div class="meta">${daysSince(p.created_at)} ${esc(t.age_days)} · ${esc(p.supporters)} ${esc(t.supporters)}</div>` +
      `<a href="${esc(api("/reports/" + encodeURIComponent(p.id)))}" target="${C.embed ? "_blank" : "_self"}">${esc(t.details)}</a></div>`;
  }

  function marker(feature) {
    const p = feature.properties;
    const [lon, lat] = feature.geometry.coordinates;
    const finished = p.status_group === "resolved" || p.status_group === "closed";
    const m = L.circleMarker([lat, lon], {
      radius: finished ? 6 : 8, color: "#ffffff", weight: 2, fillColor: COLORS[p.status_group] || "#2563eb",
      fillOpacity: finished ? 0.55 : 0.95, dashArray: finished ? "2 3" : null,
    });
    m.feature = feature;
    m.bindPopup(() => popupHtml(p));
    m.options.alt = name(p.category_name);
    return m;
  }

  function visible(feature) {
    const p = feature.properties;
    if (C.district && p.district !== C.district) return false;
    if (!state.showOld && p.status_group === "closed" && daysSince(p.updated_at) > OLD_CLOSED_DAYS) return false;
    return true;
  }

  let loadTimer = null;
  function scheduleLoad() { clearTimeout(loadTimer); loadTimer = setTimeout(loadReports, 250); }

  async function loadReports() {
    const b = state.map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
    await Promise.all(Object.entries(state.groups).map(async ([slug, group]) => {
      if (!state.map.hasLayer(group)) return;
      const res = await fetch(api(`/api/reports?bbox=${bbox}&layer=${encodeURIComponent(slug)}&limit=5000`));
      if (!res.ok) return;
      const data = await res.json();
      group.clearLayers();
      group.addLayers(data.features.filter(visible).map(marker));
      group.fire("mapapp:loaded", { count: data.features.length });
    }));
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
      const group = L.markerClusterGroup({ disableClusteringAtZoom: 17, chunkedLoading: true, showCoverageOnHover: false });
      group.layerSlug = l.slug;
      state.groups[l.slug] = group;
      state.control.addOverlay(group, `<span data-layer="${esc(l.slug)}">${esc(name(l.name))}</span>`);
      group.addTo(state.map);
    });
    state.layers = wanted;
    renderBanners();
    document.dispatchEvent(new CustomEvent("mapapp:layers", { detail: wanted }));
  }

  async function refreshLayers(first) {
    try {
      const res = await fetch(api("/api/layers"));
      if (!res.ok) return;
      const before = Object.keys(state.groups).sort().join();
      syncLayers((await res.json()).layers);
      if (first || Object.keys(state.groups).sort().join() !== before) loadReports();
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
    if (C.district && data.features.length) state.map.fitBounds(state.boundaries.getBounds());
  }

  function legend() {
    const box = document.getElementById("legend");
    if (!box) return;
    const items = ["open", "in_progress", "resolved", "closed"].map((g) =>
      `<li><span class="dot ${g}"></span>${esc(t["status_" + g])}</li>`).join("");
    box.innerHTML = `<h2>${esc(t.legend)}</h2><ul>${items}</ul>` +
      `<label><input type="checkbox" id="show-old"> ${esc(t.show_old)}</label>`;
    box.querySelector("#show-old").addEventListener("change", (e) => { state.showOld = e.target.checked; loadReports(); });
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
    loadBoundaries();
    refreshLayers(true);
    // Disaster layers are switched on and off by the city: pick the change up within seconds.
    setInterval(() => refreshLayers(false), C.refreshSeconds ? C.refreshSeconds * 1000 : 15000);
    window.mapapp = { reload: loadReports, refreshLayers: () => refreshLayers(false), state };
    document.dispatchEvent(new CustomEvent("mapapp:ready", { detail: state.map }));
  }

  document.addEventListener("DOMContentLoaded", start);
})();
