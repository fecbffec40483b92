// Shared by the office and triage desks (after common.js and staff.js): reading the API, names in the page's
// language, ages against the response target, photos, the staff timeline and a report's small map.
window.desk = (function () {
  "use strict";
  const C = window.common.config, t = C.t || {};
  const { esc } = window.common;
  const { word, time, colour } = window.staff;
  const ko = C.locale === "ko";

  async function getJSON(url) {
    const res = await fetch(url, { credentials: "same-origin" });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) { window.location.reload(); }
    if (!res.ok) throw new Error((data.error && data.error.message) || res.status);
    return data;
  }

  const pick = (obj, base) => (ko ? obj[base + "_ko"] : obj[base + "_en"]) || obj[base + "_ko"] || obj[base] || "";
  const catName = (r) => pick(r, "category");
  const placeName = (r) => (ko ? r.place_ko : r.place_en) || r.place_ko || r.address || "";
  const named = (n) => (n ? (ko ? n.ko : n.en) || n.ko || n.en || "" : "");

  // "3 d" or "5 h": a duration in the largest whole unit that reads well.
  function span(ms) {
    const h = Math.abs(ms) / 3600000;
    return h >= 48 ? `${Math.floor(h / 24)} ${t.desk_d}` : `${Math.max(0, Math.floor(h))} ${t.desk_h}`;
  }
  // Age against the category's response target: "4 d / target 72 h · late by 1 d", with the overdue badge.
  function age(r) {
    const now = Date.now(), created = Date.parse(r.created_at), due = Date.parse(r.due_at);
    const left = due - now;
    const finished = r.status === "resolved" || r.status === "closed";
    const state = finished ? "" : (left < 0 ? ` · ${t.desk_late_by} ${span(left)}` : ` · ${t.desk_due_in} ${span(left)}`);
    return `${esc(span(now - created))} / ${esc(t.desk_target)} ${esc(r.response_hours)} ${esc(t.desk_h)}${esc(state)}` +
      (r.overdue ? ` <span class="badge late">${esc(t.overdue)}</span>` : "");
  }

  function statusWord(status) {
    return `<span class="dot" style="--c:${esc(colour(status))}"></span>${esc(word("wf_", status))}`;
  }

  function photos(list) {
    if (!list || !list.length) return `<p class="help">${esc(t.desk_no_photo)}</p>`;
    const seen = {};  // numbered within each kind: "Photo 1", "After photo 1"
    return `<div class="photos">` + list.map((p) => {
      seen[p.kind] = (seen[p.kind] || 0) + 1;
      return `<a href="${esc(p.url)}" target="_blank" rel="noopener"><img src="${esc(p.thumbnail)}" ` +
        `alt="${esc(p.kind === "after" ? t.desk_after : t.desk_before)} ${seen[p.kind]}" loading="lazy"></a>`;
    }).join("") + `</div>`;
  }

  // Every event and internal note, oldest first, with who acted (staff see the person; the public never does).
  function timeline(items) {
    return `<ol class="timeline-staff">` + items.map((e) => {
      const label = e.internal ? t.ev_note : (t["ev_" + e.kind] || e.kind);
      const moved = e.to ? ` → ${esc(word("wf_", e.to))}` : "";
      const pub = e.public_note ? `<div>${esc(t.desk_public_note)}: ${esc(e.public_note)}</div>` : "";
      const priv = e.private_note ? `<div>${esc(t.desk_internal)}: ${esc(e.private_note)}</div>` : "";
      return `<li class="${e.internal ? "internal" : ""}"><time datetime="${esc(e.at)}">${esc(time(e.at))}</time> ` +
        `<strong>${esc(label)}</strong>${moved} <span class="who">${esc(t.desk_by)} ${esc(e.actor)}</span>${pub}${priv}</li>`;
    }).join("") + `</ol>`;
  }

  // The optional analysis of a message that came in through another channel (message intake).
  // names: category slug -> name in the page's language, when the page has them (else the slug).
  function intake(i, names) {
    if (!i) return "";
    const pct = (x) => (x == null ? "" : `${Math.round(Number(x) * 100)}%`);
    const list = (items, f) => (items || []).map(f).join(", ");
    return `<section class="intake"><h3>${esc(t.intake_title)}</h3><dl>` +
      `<dt>${esc(t.intake_channel)}</dt><dd>${esc(i.channel)}</dd>` +
      `<dt>${esc(t.description)}</dt><dd>${esc(i.text)}</dd>` +
      `<dt>${esc(t.intake_confidence)}</dt><dd>${esc(pct(i.confidence))}</dd>` +
      `<dt>${esc(t.intake_evidence)}</dt><dd>${esc((i.evidence || []).join(" · "))}</dd>` +
      `<dt>${esc(t.intake_categories)}</dt><dd>${esc(list(i.candidates, (c) => `${c.category ? (names && names[c.category]) || c.category : t.intake_nothing} ${pct(c.score)}`))}</dd>` +
      `<dt>${esc(t.intake_places)}</dt><dd>${esc(list(i.places, (p) => `${p.name} (${word("level_", p.level)}) ${pct(p.score)}`))}</dd>` +
      `<dt>${esc(t.intake_precision)}</dt><dd>${esc(t["precision_" + i.precision] || i.precision || "")}</dd></dl></section>`;
  }

  // The public map's base tiles, when the city has a tile server (a closed network may have none).
  function baseLayer(map) {
    if (C.tileUrl) L.tileLayer(C.tileUrl, { attribution: C.tileAttribution || "", maxZoom: 19 }).addTo(map);
    return map;
  }

  // A small map of one report: its point, the district's outline, and (optionally) other reports to pick from.
  function reportMap(el, r, extra) {
    const map = baseLayer(L.map(el, { scrollWheelZoom: false, zoomAnimation: false, fadeAnimation: false }));
    const group = L.featureGroup().addTo(map);
    if (r.district_outline) {
      L.geoJSON(r.district_outline, { style: { color: "#1d4ed8", weight: 2, fill: true, fillOpacity: .05 },
        interactive: false }).addTo(group);
    }
    L.circleMarker([r.lat, r.lon], { radius: 9, color: "#111827", weight: 3, fillColor: colour(r.status), fillOpacity: 1 })
      .bindTooltip(`${r.id} · ${catName(r)}`).addTo(group);
    (extra || []).forEach((x) => x.addTo(group));
    if (r.district_outline) map.fitBounds(group.getBounds(), { padding: [10, 10] });
    else map.setView([r.lat, r.lon], 15);
    return map;
  }

  return { baseLayer, getJSON, catName, placeName, named, age, statusWord, photos, timeline, intake, reportMap, span };
})();
