// The triage desk: each report the routing could not place, with its text, photos, map, the reason it is here and
// its candidates (the district holding the point, its neighbours, and the office the category's rule names in
// each: computed by the server from the routing rule). A click, or a digit and Enter, routes it.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const C = window.common.config, t = C.t;
  const { esc } = window.common;
  const { post, word, time } = window.staff;
  const D = window.desk;
  const ko = C.locale === "ko";
  const state = { items: [], current: -1, detail: null, chosen: null, offices: [] };
  let itemMap = null;

  async function load() {
    try {
      const data = await D.getJSON("/api/triage?page_size=100");
      state.items = data.reports;
      $("counts").textContent = `${t.wf_triage}: ${state.items.length}${data.has_more ? "+" : ""}`;
      renderList();
      if (state.items.length) await show(Math.max(0, Math.min(state.current, state.items.length - 1)));
      else { $("item").innerHTML = `<p>${esc(t.triage_empty)}</p>`; state.detail = null; }
    } catch (e) { $("work-error").textContent = e.message; }
  }

  function renderList() {
    $("triage-list").innerHTML = state.items.map((r, i) => {
      const thumb = r.thumbnail ? `<img class="thumb" src="${esc(r.thumbnail)}" alt="" loading="lazy">`
        : `<span class="thumb">${esc(t.desk_no_photo)}</span>`;
      return `<li data-index="${i}" data-id="${esc(r.id)}" tabindex="0" aria-label="${esc(D.catName(r))} ${esc(r.id)}">` +
        `<span></span>${thumb}<div class="body"><div class="line1"><span class="cat">${esc(D.catName(r))}</span>` +
        `<span class="rid">${esc(r.id)}</span></div><p class="excerpt">${esc(r.description)}</p>` +
        `<div class="meta"><span class="reason">${esc(word("reason_", r.reason_code))}</span>` +
        `<span>${esc(D.placeName(r))}</span><time datetime="${esc(r.created_at)}">${esc(time(r.created_at))}</time></div></div></li>`;
    }).join("");
  }

  async function show(index) {
    state.current = index;
    document.querySelectorAll("#triage-list > li").forEach((li) => li.classList.toggle("current", Number(li.dataset.index) === index));
    const li = document.querySelector(`#triage-list > li[data-index="${index}"]`);
    if (li) li.scrollIntoView({ block: "nearest" });
    const item = state.items[index];
    try {
      const r = await D.getJSON(`/api/staff/reports/${encodeURIComponent(item.id)}`);
      state.detail = r;
      state.chosen = null;
      render(r);
    } catch (e) { $("work-error").textContent = e.message; }
  }

  function relation(c) {
    const where = t["triage_" + c.relation] || c.relation;
    return c.distance_m ? `${where}, ${Math.round(c.distance_m)} m` : where;
  }

  function render(r) {
    const reason = r.routing && r.routing.reason ? D.named(r.routing.reason) : word("reason_", r.routing && r.routing.reason_code);
    const candidates = r.candidates.map((c, i) =>
      `<li><button type="button" data-office="${esc(c.office ? c.office.slug : "")}" data-n="${i + 1}"${c.office ? "" : " disabled"}>` +
      `<kbd>${i + 1}</kbd> ${esc(D.named(c.district.name))} (${esc(relation(c))}) — ` +
      `${c.office ? esc(D.named(c.office.name)) : esc(t.triage_no_office_here)}</button></li>`).join("");
    const others = state.offices.map((o) => `<option value="${esc(o.slug)}">${esc(ko ? o.name_ko : o.name_en)}</option>`).join("");
    $("item").innerHTML = `<h2>${esc(D.catName(r))} · ${esc(r.id)}</h2>` +
      `<p>${esc(r.description)}</p>` + D.intake(r.intake) +
      `<dl><dt>${esc(t.triage_why)}</dt><dd>${esc(reason)}</dd>` +
      `<dt>${esc(t.place)}</dt><dd>${esc(D.named(r.place) || "—")}${r.address ? ` (${esc(r.address)})` : ""}</dd>` +
      `<dt>${esc(t.received)}</dt><dd>${esc(time(r.created_at))}</dd></dl>` +
      `<h3>${esc(t.triage_candidates)}</h3><ol class="candidates" id="candidates">${candidates}</ol>` +
      `<div class="field"><label for="other-office">${esc(t.triage_other)}</label>` +
      `<select id="other-office"><option value=""></option>${others}</select></div>` +
      `<div class="field"><label for="route-reason">${esc(t.triage_reason)}</label>` +
      `<input id="route-reason" type="text" value="${esc(t.triage_default_reason)}"></div>` +
      `<p id="form-error" class="form-error" role="alert"></p>` +
      `<button type="button" class="primary" id="route-go" disabled>${esc(t.act_route)}</button>` +
      D.photos(r.photos) +
      `<div id="item-map" class="detail-map" role="img" aria-label="${esc(D.named(r.place) || r.id)}"></div>`;
    if (itemMap) { itemMap.remove(); itemMap = null; }
    itemMap = D.reportMap($("item-map"), r, []);
  }

  function choose(slug) {
    state.chosen = slug || null;
    document.querySelectorAll("#candidates button").forEach((b) => b.classList.toggle("chosen", !!slug && b.dataset.office === slug));
    if ($("other-office") && !document.querySelector("#candidates button.chosen")) $("other-office").value = slug || "";
    $("route-go").disabled = !state.chosen;
  }

  async function route() {
    if (!state.detail || !state.chosen) return;
    const r = state.detail, slug = state.chosen;
    try {
      await post(`/api/triage/${encodeURIComponent(r.id)}/route`, { office: slug, note: $("route-reason").value.trim() });
      const office = state.offices.find((o) => o.slug === slug);
      state.detail = null;  // no second decision on the same report while the next one loads
      state.chosen = null;
      state.items.splice(state.current, 1);
      renderList();
      if (state.items.length) await show(Math.min(state.current, state.items.length - 1));
      else await load();
      // Said once the next report is on screen, so what the desk shows is always what the keys act on.
      $("done").textContent = t.triage_routed.replace("{office}", office ? (ko ? office.name_ko : office.name_en) : slug) + ` (${r.id})`;
      $("item").focus();
    } catch (e) { ($("form-error") || $("work-error")).textContent = e.message; }
  }

  function onKey(e) {
    const inText = /^(INPUT|TEXTAREA)$/.test(e.target.tagName);
    if (e.key === "Enter" && state.chosen && (inText || !/^(BUTTON|A|SELECT)$/.test(e.target.tagName))) {
      e.preventDefault();
      route();
      return;
    }
    if (inText || e.target.tagName === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) return;
    if ((e.key === "j" || e.key === "k") && state.items.length) {
      show(Math.max(0, Math.min(state.items.length - 1, state.current + (e.key === "j" ? 1 : -1))));
      e.preventDefault();
    } else if (/^[1-9]$/.test(e.key)) {
      const b = document.querySelector(`#candidates button[data-n="${e.key}"]`);
      if (b && !b.disabled) { choose(b.dataset.office); b.focus(); }
    } else if (e.key === "o" && $("other-office")) {
      $("other-office").focus();
      e.preventDefault();
    }
  }

  async function start() {
    if (!(await window.staff.whoIsLoggedIn())) return;
    $("work").hidden = false;
    try { state.offices = (await D.getJSON("/api/offices")).offices; } catch (e) { $("work-error").textContent = e.message; }
    $("triage-list").addEventListener("click", (e) => {
      const li = e.target.closest("li[data-index]");
      if (li) show(Number(li.dataset.index));
    });
    $("triage-list").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.matches("li[data-index]")) show(Number(e.target.dataset.index));
    });
    $("item").addEventListener("click", (e) => {
      const b = e.target.closest("#candidates button");
      if (b) { choose(b.dataset.office); route(); }  // one click routes to a candidate
      else if (e.target.id === "route-go") route();
    });
    $("item").addEventListener("change", (e) => { if (e.target.id === "other-office") choose(e.target.value); });
    document.addEventListener("keydown", onKey);
    state.current = 0;
    await load();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
