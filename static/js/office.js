// The office desk: the queue as a work list (filters, search, sort, pages) with its map and CSV, a detail panel,
// and buttons for exactly the moves the server allows (the `actions` of /api/staff/reports/{id}: no copy of the
// workflow here), one by one or in bulk, by mouse or keyboard.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const C = window.common.config, t = C.t;
  const { esc } = window.common;
  const { post, word, colour, time } = window.staff;
  const D = window.desk;
  const ko = C.locale === "ko";
  // What each move needs before it is sent: nothing (sent at once) or a small form.
  const DIRECT = new Set(["acknowledge", "start"]);
  // Keyboard shortcuts for the moves; a key does nothing unless the server allows that move now.
  const KEYS = { a: "acknowledge", g: "assign", w: "start", r: "resolve", c: "close", d: "close_duplicate",
                 t: "transfer", n: "note", o: "reopen", p: "after_photo" };
  const state = { office: "", page: 1, rows: [], current: -1, detail: null, staff: [], offices: [], selected: new Set() };
  let map = null, markers = null, detailMap = null, duplicatePick = null;

  function params() {
    const q = new URLSearchParams();
    const status = $("q-status").value;
    if (status === "open") q.set("open", "true");
    else if (status === "finished") q.set("open", "false");
    else if (status) q.set("status", status);
    if ($("q-search").value.trim()) q.set("q", $("q-search").value.trim());
    if ($("q-category").value) q.set("category", $("q-category").value);
    if ($("q-overdue").value) q.set("overdue", $("q-overdue").value);
    if ($("q-mine").checked) q.set("mine", "true");
    q.set("sort", $("q-sort").value);
    return q;
  }

  async function load(keepCurrent) {
    const office = $("q-office").value.trim();
    if (!office) return;
    if (office !== state.office || !state.staff.length) {  // an administrator may look at any office
      state.office = office;
      try { await loadStaff(); } catch (e) { /* another office's people: the assign picker stays empty */ }
    }
    $("work-error").textContent = "";
    const q = params();
    const base = `/api/offices/${encodeURIComponent(office)}/queue`;
    try {
      const [data, points] = await Promise.all([
        D.getJSON(`${base}?${q}&page=${state.page}`), D.getJSON(`${base}/points?${q}`)]);
      $("csv").href = `${base}.csv?${q}`;  // the same filters as the list and the map now show
      $("desk-title").textContent = `${t.office_title} · ${D.named(data.office_name)}`;
      state.rows = data.reports;
      $("counts").textContent = `${t.counts}: ` +
        Object.entries(data.counts).map(([k, v]) => `${word("wf_", k)} ${v}`).join(" · ");
      renderList();
      $("page-no").textContent = `${t.desk_page} ${data.page}`;
      $("prev").disabled = data.page <= 1;
      $("next").disabled = !data.has_more;
      drawPoints(points);
      if (!keepCurrent) state.current = state.rows.length ? 0 : -1;
      else state.current = Math.min(state.current, state.rows.length - 1);
      markCurrent(false);
    } catch (e) { $("work-error").textContent = e.message; }
  }

  function renderList() {
    const list = $("queue");
    if (!state.rows.length) { list.innerHTML = `<li class="empty">${esc(t.desk_none)}</li>`; return; }
    list.innerHTML = state.rows.map((r, i) => {
      const thumb = r.thumbnail ? `<img class="thumb" src="${esc(r.thumbnail)}" alt="" loading="lazy">`
        : `<span class="thumb">${esc(t.desk_no_photo)}</span>`;
      const checked = state.selected.has(r.id) ? " checked" : "";
      return `<li data-id="${esc(r.id)}" data-index="${i}" tabindex="0" aria-label="${esc(D.catName(r))} ${esc(r.id)}">` +
        `<input type="checkbox" class="pick" data-id="${esc(r.id)}" aria-label="${esc(t.desk_select)} ${esc(r.id)}"${checked}>` +
        `${thumb}<div class="body"><div class="line1"><span class="cat">${esc(D.catName(r))}</span>` +
        `<span class="rid">${esc(r.id)}</span></div>` +
        `<p class="excerpt">${esc(r.description)}</p>` +
        `<div class="meta"><span class="status" data-status="${esc(r.status)}">${D.statusWord(r.status)}</span>` +
        `<span class="place">${esc(D.placeName(r))}</span>` +
        `<time datetime="${esc(r.created_at)}">${esc(time(r.created_at))}</time><span class="age">${D.age(r)}</span>` +
        `<span class="supporters">${esc(r.supporters)} ${esc(t.supporters)}</span>` +
        (r.assignee ? `<span>${esc(t.desk_assigned_to)} ${esc(r.assignee)}</span>` : "") + `</div></div></li>`;
    }).join("");
    bulkCount();
  }

  function drawPoints(points) {
    markers.clearLayers();
    // The public map's colours (by status group); overdue is a thick dark ring, not a colour of its own.
    points.points.forEach((p) => L.circleMarker([p.lat, p.lon], { radius: 6, color: p.overdue ? "#111827" : "#fff",
      weight: p.overdue ? 3 : 1.5, fillColor: colour(p.status), fillOpacity: .9 })
      .bindTooltip(`${p.id} · ${word("wf_", p.status)}`).on("click", () => openDetail(p.id)).addTo(markers));
    $("map-note").textContent = points.more ? t.desk_more_on_map.replace("{n}", points.points.length) : "";
    if (points.points.length) map.fitBounds(markers.getBounds(), { maxZoom: 16, padding: [20, 20] });
  }

  function markCurrent(focus) {
    document.querySelectorAll("#queue > li").forEach((li) => li.classList.toggle("current", Number(li.dataset.index) === state.current));
    const li = document.querySelector(`#queue > li[data-index="${state.current}"]`);
    if (li && focus) { li.focus(); li.scrollIntoView({ block: "nearest" }); }
  }

  function bulkCount() { $("bulk-count").textContent = `${t.desk_selected}: ${state.selected.size}`; }

  // --- the detail panel -------------------------------------------------------------------------------

  async function openDetail(id) {
    $("work-error").textContent = "";
    try {
      const r = await D.getJSON(`/api/staff/reports/${encodeURIComponent(id)}`);
      state.detail = r;
      renderDetail(r);
      if (window.location.hash !== "#" + id) history.replaceState(null, "", "#" + id);
    } catch (e) { $("work-error").textContent = e.message; }
  }

  function renderDetail(r) {
    const panel = $("detail");
    const reason = r.routing && r.routing.reason ? D.named(r.routing.reason) : "";
    panel.innerHTML = `<h2 id="detail-title">${esc(D.catName(r))} · ${esc(r.id)}</h2>` +
      `<p><span class="status" data-status="${esc(r.status)}">${D.statusWord(r.status)}</span> ` +
      `<a href="/reports/${esc(r.id)}" target="_blank" rel="noopener">${esc(t.details)}</a> ` +
      `<button type="button" id="detail-close">${esc(t.desk_close_panel)}</button></p>` +
      `<div class="actions" role="group" aria-label="${esc(t.actions)}">` +
      r.actions.map((a) => `<button type="button" data-action="${esc(a)}">${esc(t["act_" + a] || a)}</button>`).join("") +
      `</div><div id="action-form" class="action-form" hidden></div>` +
      `<p>${esc(r.description)}</p>` + D.photos(r.photos) +
      `<div id="detail-map" class="detail-map" role="img" aria-label="${esc(D.placeName({ place_ko: r.place && r.place.ko, place_en: r.place && r.place.en }))}"></div>` +
      `<dl><dt>${esc(t.place)}</dt><dd>${esc(D.named(r.place))}${r.address ? ` (${esc(r.address)})` : ""}</dd>` +
      `<dt>${esc(t.received)}</dt><dd>${esc(time(r.created_at))}</dd>` +
      `<dt>${esc(t.desk_due)}</dt><dd>${esc(time(r.due_at))} ${r.overdue ? `<span class="badge late">${esc(t.overdue)}</span>` : ""}</dd>` +
      `<dt>${esc(t.desk_supporters)}</dt><dd>${esc(r.supporters)}</dd>` +
      `<dt>${esc(t.office)}</dt><dd>${esc(ko ? r.office_ko : r.office_en)}</dd>` +
      `<dt>${esc(t.desk_assigned_to)}</dt><dd>${esc(r.assignee || "—")}</dd>` +
      `<dt>${esc(t.desk_routing)}</dt><dd>${esc(reason)}</dd></dl>` +
      D.intake(r.intake) +
      `<h3>${esc(t.timeline)}</h3>` + D.timeline(r.timeline);
    panel.hidden = false;
    if (detailMap) { detailMap.remove(); detailMap = null; }
    duplicatePick = null;
    detailMap = D.reportMap($("detail-map"), r, r.nearby.map((n) => L.circleMarker([n.lat, n.lon], { radius: 6,
      color: "#fff", weight: 1.5, fillColor: colour(n.status), fillOpacity: .9 })
      .bindTooltip(`${n.id} · ${ko ? n.category_ko : n.category_en} · ${n.distance_m} m`)
      .on("click", () => pickDuplicate(n.id))));
  }

  function pickDuplicate(id) {
    duplicatePick = id;
    if (!$("dup-list")) openForm("close_duplicate");
    const radio = document.querySelector(`#dup-list input[value="${CSS.escape(id)}"]`);
    if (radio) { radio.checked = true; radio.focus(); }
  }

  function field(id, label, control) { return `<div class="field"><label for="${id}">${esc(label)}</label>${control}</div>`; }

  // The form each move needs, built from what the server answered (staff, offices, nearby reports).
  function openForm(action) {
    const r = state.detail;
    if (!r || !r.actions.includes(action)) return;
    if (DIRECT.has(action)) { send(action); return; }
    const form = $("action-form");
    let body = "";
    if (action === "assign") {
      body = field("f-assignee", t.desk_pick_staff, `<select id="f-assignee">${staffOptions()}</select>`);
    } else if (action === "resolve") {
      body = field("f-answer", t.desk_answer, `<textarea id="f-answer" required></textarea>`) +
        field("f-after", t.desk_after_photo, `<input id="f-after" type="file" accept="image/*">`);
    } else if (action === "close") {
      body = field("f-close-note", t.desk_close_reason, `<textarea id="f-close-note" required></textarea>`);
    } else if (action === "close_duplicate") {
      body = r.nearby.length ? `<fieldset><legend>${esc(t.desk_duplicate_of)}</legend><ul id="dup-list" class="nearby-pick">` +
        r.nearby.map((n) => `<li><label><input type="radio" name="dup" value="${esc(n.id)}"${duplicatePick === n.id ? " checked" : ""}> ` +
          `${esc(n.id)} · ${esc(ko ? n.category_ko : n.category_en)} · ${esc(n.distance_m)} m · ${esc(n.description)}</label></li>`).join("") +
        `</ul></fieldset>` : `<p id="dup-list">${esc(t.desk_no_nearby)}</p>`;
      if (detailMap && r.nearby.length) {  // close in on the report and its neighbours, to pick on the map
        detailMap.fitBounds([[r.lat, r.lon], ...r.nearby.map((n) => [n.lat, n.lon])], { maxZoom: 19, padding: [20, 20] });
      }
    } else if (action === "transfer") {
      body = field("f-office", t.desk_transfer_to, `<select id="f-office"><option value="">${esc(t.desk_back_to_triage)}</option>` +
        state.offices.filter((o) => o.slug !== r.office).map((o) => `<option value="${esc(o.slug)}">${esc(ko ? o.name_ko : o.name_en)}</option>`).join("") +
        `</select>`) + field("f-reason", t.desk_transfer_reason, `<textarea id="f-reason" required></textarea>`);
    } else if (action === "reopen") {
      body = field("f-reopen", t.desk_reopen_reason, `<textarea id="f-reopen" required></textarea>`);
    } else if (action === "note") {
      body = field("f-note", t.desk_note, `<textarea id="f-note" required></textarea>`);
    } else if (action === "after_photo") {
      body = field("f-photo", t.after_photo, `<input id="f-photo" type="file" accept="image/*">`);
    }
    form.innerHTML = `<h3>${esc(t["act_" + action])}</h3>${body}<p id="form-error" class="form-error" role="alert"></p>` +
      `<div class="row"><button type="button" class="primary" id="form-go" data-go="${esc(action)}">${esc(t.desk_confirm)}</button>` +
      `<button type="button" id="form-cancel">${esc(t.desk_cancel)}</button></div>`;
    form.hidden = false;
    const first = form.querySelector("select, textarea, input, button");
    if (first) first.focus();
  }

  function staffOptions() {
    return state.staff.map((s) => `<option value="${esc(s.email)}">${esc(s.name)} (${esc(s.email)}, ${esc(word("role_", s.role))})</option>`).join("");
  }

  async function send(action) {
    const r = state.detail, id = encodeURIComponent(r.id);
    const val = (x) => ($(x) ? $(x).value.trim() : "");
    try {
      if (action === "acknowledge") await post(`/api/reports/${id}/status`, { to: "acknowledged" });
      else if (action === "start") await post(`/api/reports/${id}/status`, { to: "in_progress" });
      else if (action === "assign") await post(`/api/reports/${id}/status`, { to: "assigned", assignee: val("f-assignee") });
      else if (action === "resolve") {
        await uploadAfter("f-after", id);
        await post(`/api/reports/${id}/status`, { to: "resolved", public_note: val("f-answer") });
      } else if (action === "close") {
        await post(`/api/reports/${id}/status`, { to: "closed", reason: "cannot_fix", public_note: val("f-close-note") });
      } else if (action === "close_duplicate") {
        const chosen = document.querySelector("#dup-list input:checked");
        await post(`/api/reports/${id}/status`, { to: "closed", reason: "duplicate", duplicate_of: chosen ? chosen.value : "" });
      } else if (action === "transfer") {
        await post(`/api/reports/${id}/transfer`, { to_office: val("f-office") || null, reason: val("f-reason") });
      } else if (action === "reopen") await post(`/api/reports/${id}/status`, { to: "reopened", public_note: val("f-reopen") });
      else if (action === "note") await post(`/api/reports/${id}/notes`, { body: val("f-note") });
      else if (action === "after_photo") await uploadAfter("f-photo", id);
      await load(true);
      if (action === "transfer") {  // another office's report now: out of this desk
        $("detail").hidden = true;
        state.detail = null;
        history.replaceState(null, "", window.location.pathname + window.location.search);
        markCurrent(true);
        return;
      }
      await openDetail(r.id);
      $("detail").focus();
    } catch (e) {
      const where = $("form-error") || $("work-error");
      where.textContent = e.message;
    }
  }

  async function uploadAfter(inputId, id) {
    const input = $(inputId);
    if (!input || !input.files.length) return;
    const form = new FormData();
    form.append("photo", input.files[0]);
    await post(`/api/reports/${id}/after-photo`, form, true);
  }

  // --- bulk -----------------------------------------------------------------------------------------

  async function bulk(action) {
    const ids = [...state.selected];
    if (!ids.length) return;
    const body = { ids, action };
    if (action === "assign") body.assignee = $("bulk-assignee").value;
    if (action === "close") { body.reason = "cannot_fix"; body.public_note = $("bulk-close-note").value.trim(); }
    try {
      const data = await post("/api/staff/bulk", body);
      const ok = data.results.filter((x) => x.ok).length;
      const refused = data.results.filter((x) => !x.ok);
      $("bulk-result").textContent = t.desk_bulk_result.replace("{ok}", ok).replace("{failed}", refused.length) +
        (refused.length ? ": " + refused.map((x) => `${x.id} (${x.error.message})`).join("; ") : "");
      state.selected = new Set(refused.map((x) => x.id));
      $("select-all").checked = false;
      await load(true);
      if (state.detail && !$("detail").hidden) openDetail(state.detail.id);
    } catch (e) { $("work-error").textContent = e.message; }
  }

  // --- keyboard ---------------------------------------------------------------------------------------

  function onKey(e) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) && e.target.type !== "checkbox" && e.target.type !== "radio";
    if (e.key === "Escape") {
      if (!$("action-form") || $("action-form").hidden) { $("detail").hidden = true; markCurrent(true); }
      else { $("action-form").hidden = true; $("detail").focus(); }
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j" || e.key === "k") {
      if (!state.rows.length) return;
      state.current = Math.max(0, Math.min(state.rows.length - 1, state.current + (e.key === "j" ? 1 : -1)));
      markCurrent(true);
      openDetail(state.rows[state.current].id);
      e.preventDefault();
    } else if (e.key === "Enter" && e.target.matches("#queue > li")) {
      state.current = Number(e.target.dataset.index);
      markCurrent(false);
      openDetail(e.target.dataset.id);
    } else if (e.key === "x" && state.current >= 0) {
      const box = document.querySelector(`#queue > li[data-index="${state.current}"] .pick`);
      if (box) { box.checked = !box.checked; toggle(box); }
    } else if (e.key === "/") {
      $("q-search").focus();
      e.preventDefault();
    } else if (KEYS[e.key] && state.detail && !$("detail").hidden) {
      openForm(KEYS[e.key]);
      e.preventDefault();
    }
  }

  function toggle(box) {
    if (box.checked) state.selected.add(box.dataset.id); else state.selected.delete(box.dataset.id);
    bulkCount();
  }

  // --- start ----------------------------------------------------------------------------------------

  function legend() {
    const groups = Object.keys(C.statusColors || {});
    $("queue-legend").innerHTML = `<strong>${esc(t.legend)}</strong> ` + groups.map((g) =>
      `<span><span class="dot" style="--c:${esc(C.statusColors[g])}"></span>${esc(t["status_" + g] || g)}</span>`).join(" ") +
      ` <span><span class="dot ring"></span>${esc(t.overdue)}</span>`;
  }

  async function pickers() {
    const [layers, offices] = await Promise.all([D.getJSON("/api/layers"), D.getJSON("/api/offices")]);
    state.offices = offices.offices;
    const seen = new Set();
    $("q-category").innerHTML += layers.layers.flatMap((l) => l.categories).filter((c) => !seen.has(c.slug) && seen.add(c.slug))
      .map((c) => `<option value="${esc(c.slug)}">${esc(window.common.name(c.name))}</option>`).join("");
  }

  async function loadStaff() {
    state.staff = (await D.getJSON(`/api/offices/${encodeURIComponent(state.office)}/staff`)).staff;
    $("bulk-assignee").innerHTML = staffOptions();
  }

  async function start() {
    const me = await window.staff.whoIsLoggedIn();
    if (!me) return;
    $("work").hidden = false;
    $("q-office").value = me.office || "";
    state.office = me.office || "";
    // Office people see their own office's queue: no office code to type or read.
    if (me.office) $("q-office").closest(".field").hidden = true;
    // No zoom animation: a work tool redraws at once (and a screenshot never catches a half-zoomed map).
    map = D.baseLayer(L.map("queue-map", { zoomAnimation: false, fadeAnimation: false }));
    const extent = C.extent;  // [west, south, east, north] of the city
    if (extent) map.fitBounds([[extent[1], extent[0]], [extent[3], extent[2]]]);
    else map.setView([20, 0], 2);
    markers = L.featureGroup().addTo(map);
    legend();
    $("filters").addEventListener("submit", (e) => { e.preventDefault(); state.page = 1; load(); });
    $("prev").addEventListener("click", () => { state.page = Math.max(1, state.page - 1); load(); });
    $("next").addEventListener("click", () => { state.page += 1; load(); });
    $("queue").addEventListener("change", (e) => { if (e.target.matches(".pick")) toggle(e.target); });
    $("queue").addEventListener("click", (e) => {
      const li = e.target.closest("li[data-id]");
      if (!li || e.target.matches(".pick")) return;
      state.current = Number(li.dataset.index);
      markCurrent(false);
      openDetail(li.dataset.id);
    });
    $("select-all").addEventListener("change", (e) => {
      document.querySelectorAll("#queue .pick").forEach((box) => { box.checked = e.target.checked; toggle(box); });
    });
    $("bulk").addEventListener("click", (e) => { if (e.target.dataset.bulk) bulk(e.target.dataset.bulk); });
    $("detail").addEventListener("click", (e) => {
      if (e.target.id === "detail-close") { $("detail").hidden = true; markCurrent(true); }
      else if (e.target.dataset.action) openForm(e.target.dataset.action);
      else if (e.target.dataset.go) send(e.target.dataset.go);
      else if (e.target.id === "form-cancel") { $("action-form").hidden = true; }
    });
    document.addEventListener("keydown", onKey);
    try { await pickers(); } catch (e) { $("work-error").textContent = e.message; }
    if (state.office) await load();
    const wanted = window.location.hash.slice(1);  // /office#ID: the link in the assignee's e-mail
    if (wanted) openDetail(wanted);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
