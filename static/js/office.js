// The office queue: log in, list and map the office's reports, move them along the workflow.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const NEXT = { routed: ["acknowledged"], reopened: ["acknowledged", "assigned", "in_progress"],
                 acknowledged: ["assigned", "in_progress"], assigned: ["in_progress"], in_progress: ["resolved"] };
  let map = null, markers = null, me = null;

  const { esc } = window.common;
  const { post } = window.staff;

  async function load() {
    const office = $("q-office").value.trim();
    const q = new URLSearchParams();
    if ($("q-status").value) q.set("status", $("q-status").value);
    if ($("q-category").value.trim()) q.set("category", $("q-category").value.trim());
    if ($("q-age").value) q.set("min_age_hours", $("q-age").value);
    if ($("q-overdue").value) q.set("overdue", $("q-overdue").value);
    q.set("sort", $("q-sort").value);
    const base = `/api/offices/${encodeURIComponent(office)}/queue`;
    $("csv").href = `${base}.csv?${q}`;
    const res = await fetch(`${base}?${q}`, { credentials: "same-origin" });
    if (!res.ok) { $("work-error").textContent = (await res.json()).error.message; return; }
    const data = await res.json();
    $("counts").textContent = Object.entries(data.counts).map(([k, v]) => `${k}: ${v}`).join(" · ");
    const tbody = $("queue").querySelector("tbody");
    tbody.innerHTML = data.reports.map((r) => {
      const moves = (NEXT[r.status] || []).map((to) =>
        `<button type="button" data-id="${esc(r.id)}" data-to="${to}">${esc(to)}</button>`).join(" ") +
        (r.status === "in_progress" ? ` <label>${esc(window.common.config.t.after_photo)} ` +
          `<input type="file" accept="image/*" id="after-${esc(r.id)}"></label>` : "");
      return `<tr data-id="${esc(r.id)}"><td><a href="/reports/${esc(r.id)}">${esc(r.id)}</a></td>` +
        `<td>${esc(r.category)}${r.overdue ? " ⚠" : ""}</td><td class="status">${esc(r.status)}</td><td>${moves}</td></tr>`;
    }).join("");
    markers.clearLayers();
    data.reports.forEach((r) => L.circleMarker([r.lat, r.lon], { radius: 7, color: "#fff", weight: 2,
      fillColor: r.overdue ? "#dc2626" : "#1d4ed8", fillOpacity: .9 }).bindTooltip(r.id).addTo(markers));
    if (data.reports.length) map.fitBounds(markers.getBounds(), { maxZoom: 16, padding: [20, 20] });
  }

  async function act(button) {
    const id = button.dataset.id, to = button.dataset.to, extra = {};
    $("work-error").textContent = "";
    try {
      if (to === "assigned") extra.assignee = window.prompt(window.common.config.t.assignee) || "";
      if (to === "resolved") {
        extra.public_note = window.prompt(window.common.config.t.answer_help) || "";
        const file = document.getElementById("after-" + id);
        if (file && file.files.length) {
          const form = new FormData();
          form.append("photo", file.files[0]);
          await post(`/api/reports/${encodeURIComponent(id)}/after-photo`, form, true);
        }
      }
      await post(`/api/reports/${encodeURIComponent(id)}/status`, { to, ...extra });
      await load();
    } catch (e) { $("work-error").textContent = e.message; }
  }

  async function start() {
    me = await window.staff.whoIsLoggedIn();
    if (!me) return;
    $("work").hidden = false;
    $("q-office").value = me.office || "";
    map = L.map("queue-map").setView([37.5665, 126.978], 11);
    markers = L.featureGroup().addTo(map);
    $("queue").addEventListener("click", (e) => { if (e.target.dataset.to) act(e.target); });
    $("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
    if (me.office) load();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
