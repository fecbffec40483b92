// The report form: pick the place (tap, my location, a photo's GPS, or typed coordinates / address),
// the layer and category, see nearby reports ("me too"), and send with progress. Works without the map.
(function () {
  "use strict";
  // The page's settings and texts, from the JSON data block the server writes (no inline script: CSP).
  const C = window.common.config;  // the page's settings and texts (common.js reads the JSON block)
  const { esc: escapeHtml, name, api } = window.common;
  const t = C.t;
  const $ = (id) => document.getElementById(id);
  const state = { layers: [], pin: null, map: null, sending: false, idempotencyKey: null };

  // The icon names of layers/*.yaml, drawn with the platform's emoji.
  const ICONS = { lightbulb: "💡", "traffic-light": "🚦", sidewalk: "🧱", manhole: "🕳️", bus: "🚌", road: "🛣️",
                  trash: "🗑️", drain: "🌧️", flood: "🌊", wall: "🧱", landslide: "⛰️", rocks: "🪨" };
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function supporterToken() {
    let token = localStorage.getItem("mapapp-supporter");
    if (!token) { token = uuid(); localStorage.setItem("mapapp-supporter", token); }
    return token;
  }

  function fillLayers(layers) {
    state.layers = layers;
    const select = $("f-layer");
    if (!select) return;
    const current = select.value;
    select.innerHTML = `<option value="">${t.choose}</option>` + layers.map((l) =>
      `<option value="${l.slug}">${escapeHtml(name(l.name))}</option>`).join("");
    if (layers.some((l) => l.slug === current)) select.value = current;
    else if (layers.length === 1 || C.layer) select.value = C.layer || layers[0].slug;
    fillCategories();
  }

  function fillCategories() {
    const layer = state.layers.find((l) => l.slug === $("f-layer").value);
    const select = $("f-category");
    const current = select.value;
    select.innerHTML = `<option value="">${t.choose}</option>` + (layer ? layer.categories : []).map((c) =>
      `<option value="${c.slug}" data-color="${c.color}">${ICONS[c.icon] || "•"} ${escapeHtml(name(c.name))}</option>`).join("");
    if (layer && layer.categories.some((c) => c.slug === current)) select.value = current;
  }

  function setPin(lat, lon, fromInputs) {
    if (!isFinite(lat) || !isFinite(lon)) return;
    state.pinSet = true;
    if (!fromInputs) { $("f-lat").value = lat.toFixed(6); $("f-lon").value = lon.toFixed(6); }
    if (state.map) {
      if (!state.pin) {
        state.pin = L.marker([lat, lon], { draggable: true, title: t.pin_placed, alt: t.pin_placed, keyboard: true })
          .addTo(state.map);
        state.pin.on("dragend", () => {
          const p = state.pin.getLatLng();
          setPin(p.lat, p.lng, false);
        });
      } else {
        state.pin.setLatLng([lat, lon]);
      }
    }
    $("pin-status").textContent = `${t.pin_placed}: ${lat.toFixed(5)}, ${lon.toFixed(5)}`;
    clearError("lat");
    checkNearby();
    showPlace(lat, lon);
  }

  // The place the pin is in, named in the citizen's language and then the other one ("마포구 합정동 ·
  // Hapjeong-dong, Mapo-gu"); #pin-status is aria-live, so a screen reader hears where the pin is.
  let placeTimer = null, placeAsked = 0;
  function showPlace(lat, lon) {
    clearTimeout(placeTimer);
    const asked = ++placeAsked;
    placeTimer = setTimeout(async () => {
      let data = null;
      try {
        const res = await fetch(api(`/api/places?lat=${lat}&lon=${lon}`));
        if (res.ok) data = await res.json();
      } catch (e) { data = null; }
      if (asked !== placeAsked || !state.pinSet) return;  // the pin moved on, or the form was sent
      const status = $("pin-status");
      if (!data) return;  // no answer: the coordinates stay shown
      if (!data.place) { status.textContent = t.place_outside; return; }
      const other = C.locale === "ko" ? "en" : "ko";
      const second = data.place[other] && data.place[other] !== data.place[C.locale]
        ? ` · <span lang="${other}">${escapeHtml(data.place[other])}</span>` : "";
      status.innerHTML = `${escapeHtml(t.pin_placed)}: <strong class="place">${escapeHtml(data.place[C.locale])}</strong>${second}`;
    }, 200);
  }

  let nearbyTimer = null;
  function checkNearby() {
    clearTimeout(nearbyTimer);
    nearbyTimer = setTimeout(async () => {
      const lat = parseFloat($("f-lat").value), lon = parseFloat($("f-lon").value);
      const category = $("f-category").value, layer = $("f-layer").value;
      const box = $("nearby");
      if (!isFinite(lat) || !isFinite(lon) || !(category || layer)) { box.hidden = true; return; }
      const q = category ? `category=${encodeURIComponent(category)}` : `layer=${encodeURIComponent(layer)}`;
      const res = await fetch(api(`/api/reports/nearby?lat=${lat}&lon=${lon}&${q}`));
      if (!res.ok) { box.hidden = true; return; }
      const data = await res.json();
      if (!data.reports.length) { box.hidden = true; box.innerHTML = ""; return; }
      box.innerHTML = `<h3>${escapeHtml(t.nearby_title)}</h3><ul>` + data.reports.map((item) => {
        const p = item.report.properties;
        const img = p.thumbnail ? `<img src="${escapeHtml(api(p.thumbnail))}" alt="${escapeHtml(t.photo_alt)}">` : "";
        return `<li>${img}<span>${escapeHtml(name(p.category_name))} · ${Math.round(item.distance_m)} m · ` +
          `<span class="count">${p.supporters}</span> ${escapeHtml(t.supporters)}</span>` +
          `<button type="button" class="me-too" data-id="${escapeHtml(p.id)}">${escapeHtml(t.me_too)}</button></li>`;
      }).join("") + "</ul>";
      box.hidden = false;
    }, 300);
  }

  async function meToo(button) {
    button.disabled = true;
    const res = await fetch(api(`/api/reports/${encodeURIComponent(button.dataset.id)}/support`), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ supporter: supporterToken() }),
    });
    if (res.ok) {
      const data = await res.json();
      button.textContent = t.me_too_done;
      button.closest("li").querySelector(".count").textContent = data.supporters;
    } else {
      button.disabled = false;
    }
  }

  async function photosChosen() {
    const files = Array.from($("f-photos").files || []);
    const box = $("previews");
    box.innerHTML = "";
    files.slice(0, 5).forEach((file, i) => {
      const img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = `${t.photo_alt} ${i + 1}: ${file.name}`;
      box.appendChild(img);
    });
    clearError("photos");
    // A photo that knows where it was taken places the pin (the citizen can still drag it).
    if (!$("f-lat").value && window.exifr) {
      for (const file of files) {
        try {
          const gps = await window.exifr.gps(file);
          if (gps && isFinite(gps.latitude) && isFinite(gps.longitude) && (gps.latitude || gps.longitude)) {
            setPin(gps.latitude, gps.longitude, false);
            if (state.map) state.map.setView([gps.latitude, gps.longitude], Math.max(state.map.getZoom(), 16));
            break;
          }
        } catch (e) { /* no readable EXIF: the server checks again */ }
      }
    }
  }

  function clearError(field) {
    const wrap = document.querySelector(`[data-field="${field}"]`);
    if (!wrap) return;
    wrap.classList.remove("invalid");
    const msg = wrap.querySelector(".error");
    if (msg) { msg.hidden = true; msg.textContent = ""; }
  }

  function showError(body) {
    const error = (body && body.error) || { code: "network", message: "" };
    const text = (C.errors[error.code] || t.error) + (error.message && C.locale === "en" ? ` (${error.message})` : "");
    let field = (error.details && error.details.field) || fieldFor(error.code);
    if (field === "address") field = "lat";  // the address is typed in the location fieldset
    const wrap = field && document.querySelector(`[data-field="${field}"]`);
    if (wrap) {
      wrap.classList.add("invalid");
      const msg = wrap.querySelector(".error");
      msg.textContent = text + candidates(error);
      msg.hidden = false;
      const input = /^address_/.test(error.code) ? $("f-address") : wrap.querySelector("input, select, textarea");
      if (input) input.focus();
    }
    $("form-error").textContent = `${t.error}: ${text}`;
  }

  // An ambiguous name lists the places it could mean, so the citizen can type the right one.
  function candidates(error) {
    const list = (error.details && error.details.candidates) || [];
    return list.length ? " " + list.map((c) => name(c.place)).join(", ") : "";
  }

  function fieldFor(code) {
    return { location_required: "lat", outside_service_area: "lat", invalid_coordinates: "lat",
             invalid_photo: "photos", unsupported_media_type: "photos", photo_too_large: "photos",
             too_many_photos: "photos", description_too_long: "description", layer_inactive: "layer",
             unknown_category: "category", category_not_in_layer: "category" }[code];
  }

  function submit(event) {
    event.preventDefault();
    if (state.sending) return;
    document.querySelectorAll("[data-field]").forEach((w) => clearError(w.dataset.field));
    $("form-error").textContent = "";
    const form = $("report-form");
    const data = new FormData();
    ["layer", "category", "lat", "lon", "address", "description", "email", "phone"].forEach((key) => {
      const value = (form.elements[key] && form.elements[key].value || "").trim();
      if (value) data.append(key, value);
    });
    data.append("locale", C.locale);
    Array.from($("f-photos").files || []).forEach((file) => data.append("photos", file));
    // The same key until it succeeds: a retry after a lost answer cannot file the report twice.
    state.idempotencyKey = state.idempotencyKey || uuid();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", api("/api/reports"));
    xhr.setRequestHeader("Idempotency-Key", state.idempotencyKey);
    const progress = $("progress");
    progress.hidden = false;
    progress.value = 0;
    $("submit-button").disabled = true;
    $("submit-button").textContent = t.sending;
    state.sending = true;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = e.loaded / e.total; };
    xhr.onload = () => {
      finish();
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status === 201 && body) confirmed(body); else showError(body);
    };
    xhr.onerror = () => { finish(); showError(null); };
    xhr.send(data);
  }

  function finish() {
    state.sending = false;
    $("progress").hidden = true;
    $("submit-button").disabled = false;
    $("submit-button").textContent = t.submit;
  }

  function confirmed(body) {
    state.idempotencyKey = null;
    const box = $("confirmation");
    const office = body.office ? name(body.office.name) : t.triage;
    const link = C.embed ? body.tracking_url : "/reports/" + encodeURIComponent(body.id);
    const place = body.place ? `<p>${escapeHtml(t.place)}: ${escapeHtml(name(body.place))}</p>` : "";
    const precision = t["precision_" + body.location_precision];
    box.innerHTML = `<p><strong>${escapeHtml(t.thanks)}</strong></p><p>${escapeHtml(t.office)}: ${escapeHtml(office)}</p>` +
      place + (precision ? `<p class="precision">${escapeHtml(precision)}</p>` : "") +
      `<p><a id="tracking-link" href="${escapeHtml(link)}" target="${C.embed ? "_blank" : "_self"}">${escapeHtml(t.track)} (${escapeHtml(body.id)})</a></p>`;
    box.hidden = false;
    $("report-form").reset();
    fillLayers(state.layers);  // reset() forgets the chosen layer; a single layer is chosen again
    $("previews").innerHTML = "";
    $("nearby").hidden = true;
    if (state.pin && state.map) { state.map.removeLayer(state.pin); state.pin = null; }
    // The pin is gone with the report: the form no longer says where it is.
    state.pinSet = false;
    placeAsked++;
    $("pin-status").textContent = "";
    box.focus();
    if (window.mapapp) window.mapapp.reload();
  }

  function openPanel() {
    $("report-panel").hidden = false;
    $("confirmation").hidden = true;
    $("confirmation").innerHTML = "";
    $("f-layer").focus();
  }

  function start() {
    if (!$("report-form")) return;
    $("open-report") && $("open-report").addEventListener("click", openPanel);
    $("close-report").addEventListener("click", () => { $("report-panel").hidden = true; });
    $("f-layer").addEventListener("change", () => { fillCategories(); checkNearby(); });
    $("f-category").addEventListener("change", checkNearby);
    ["f-lat", "f-lon"].forEach((id) => $(id).addEventListener("change", () =>
      setPin(parseFloat($("f-lat").value), parseFloat($("f-lon").value), true)));
    $("f-photos").addEventListener("change", photosChosen);
    $("use-location").addEventListener("click", () => {
      if (!navigator.geolocation) return;
      navigator.geolocation.getCurrentPosition((pos) => {
        setPin(pos.coords.latitude, pos.coords.longitude, false);
        if (state.map) state.map.setView([pos.coords.latitude, pos.coords.longitude], 17);
      });
    });
    $("nearby").addEventListener("click", (e) => { if (e.target.classList.contains("me-too")) meToo(e.target); });
    $("report-form").addEventListener("submit", submit);
    document.addEventListener("mapapp:layers", (e) => fillLayers(e.detail));
    const useMap = (map) => {
      state.map = map;
      map.on("click", (ev) => {
        if ($("report-panel").hidden) openPanel();
        setPin(ev.latlng.lat, ev.latlng.lng, false);
      });
    };
    if (window.mapappMap) useMap(window.mapappMap);
    else document.addEventListener("mapapp:ready", (e) => useMap(e.detail));
    if (window.mapapp && window.mapapp.state.layers.length) fillLayers(window.mapapp.state.layers);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
