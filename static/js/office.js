// The office queue: log in, list and map the office's reports, move them along the workflow.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const NEXT = { routed: ["acknowledged"], reopened: ["acknowledged", "assigned", "in_progress"],
                 acknowledged: ["assigned", "in_progress"], assigned: ["in_progress"], in_progress: ["resolved"] };
  let map = null, markers = null, me = null;

  const { esc } = window.common;
  const { post, word, time, colour } = window.staff;
  const C = window.common.config, t = C.t;
  const catName = (r) => (C.locale === "ko" ? r.category_ko : r.category_en) || r.category;

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
    $("counts").textContent = `${t.counts}: ` +
      Object.entries(data.counts).map(([k, v]) => `${word("wf_", k)} ${v}`).join(" · ");
    const tbody = $("queue").querySelector("tbody");
    tbody.innerHTML = data.reports.map((r) => {
      const moves = (NEXT[r.status] || []).map((to) =>
        `<button type="button" data-id="${esc(r.id)}" data-to="${esc(to)}">${esc(word("act_", to))}</button>`).join(" ") +
        (r.status === "in_progress" ? ` <label>${esc(window.common.config.t.after_photo)} ` +
          `<input type="file" accept="image/*" id="after-${esc(r.id)}"></label>` : "");
      return `<tr data-id="${esc(r.id)}"><td><a href="/reports/${esc(r.id)}">${esc(r.id)}</a></td>` +
        `<td>${esc(catName(r))}${r.overdue ? ` <span class="badge overdue">${esc(t.overdue)}</span>` : ""}</td>` +
        `<td><time datetime="${esc(r.created_at)}">${esc(time(r.created_at))}</time></td>` +
        `<td class="status" data-status="${esc(r.status)}"><span class="dot" style="--c:${esc(colour(r.status))}"></span>` +
        `${esc(word("wf_", r.status))}</td><td>${moves}</td></tr>`;
    }).join("");
    markers.clearLayers();
    // The public map's colours (by status group); overdue is a thick dark ring, not a colour of its own.
    data.reports.forEach((r) => L.circleMarker([r.lat, r.lon], { radius: 7, color: r.overdue ? "#111827" : "#fff",
      weight: r.overdue ? 3 : 2, fillColor: colour(r.status), fillOpacity: .9 })
      .bindTooltip(`${r.id} · ${catName(r)} · ${word("wf_", r.status)}`).addTo(markers));
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

  function legend() {
    const groups = Object.keys(C.statusColors || {});
    $("queue-legend").innerHTML = `<strong>${esc(t.legend)}</strong> ` + groups.map((g) =>
      `<span><span class="dot" style="--c:${esc(C.statusColors[g])}"></span>${esc(t["status_" + g] || g)}</span>`).join(" ") +
      ` <span><span class="dot ring"></span>${esc(t.overdue)}</span>`;
  }

  async function start() {
    me = await window.staff.whoIsLoggedIn();
    if (!me) return;
    $("work").hidden = false;
    $("q-office").value = me.office || "";
    // Office people see their own office's queue: no office code to type or read.
    if (me.office) $("q-office").closest(".field").hidden = true;
    map = L.map("queue-map");
    const extent = window.common.config.extent;  // [west, south, east, north] of the city
    if (extent) map.fitBounds([[extent[1], extent[0]], [extent[3], extent[2]]]);
    else map.setView([20, 0], 2);
    markers = L.featureGroup().addTo(map);
    legend();
    $("queue").addEventListener("click", (e) => { if (e.target.dataset.to) act(e.target); });
    $("filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
    if (me.office) load();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
