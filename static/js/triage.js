// The triage desk: each report the routing could not place, with its text, photos, map, the reason it is here and
// its candidates (the district holding the point, its neighbours, and the office the category's rule names in
// each: computed by the server from the routing rule). A click, or a digit and Enter, routes it.
// A report that came from a channel message also shows what the machine read (message intake) and offers that
// decision: one of its candidate categories and one district (the best of each chosen already), then Enter or
// "route" records it and routes the report; "no problem" closes it. Either way it is exported as an example.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const C = window.common.config, t = C.t;
  const { esc } = window.common;
  const { post, word, time } = window.staff;
  const D = window.desk;
  const ko = C.locale === "ko";
  const state = { items: [], current: -1, detail: null, chosen: null, offices: [], categories: {}, districts: null,
    decision: null };  // decision: {category, district} chosen from a message's analysis
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
      // What was read from the report's channel message; null for a report that did not come from one.
      r.intake = (await D.getJSON(`/api/intake/reports/${encodeURIComponent(item.id)}`)).intake;
      if (r.intake && !state.districts) await loadDistricts();
      state.detail = r;
      state.chosen = null;
      state.decision = r.intake ? firstChoice(r.intake) : null;
      render(r);
      if (state.decision) markDecision();
    } catch (e) { $("work-error").textContent = e.message; }
  }

  function relation(c) {
    const where = t["triage_" + c.relation] || c.relation;
    return c.distance_m ? `${where}, ${Math.round(c.distance_m)} m` : where;
  }

  async function loadDistricts() {
    const fc = await D.getJSON("/api/jurisdictions/districts");
    state.districts = fc.features.map((f) => f.properties)
      .sort((a, b) => (ko ? a.name_ko.localeCompare(b.name_ko, "ko") : a.name_en.localeCompare(b.name_en)));
  }

  const pct = (x) => `${Math.round(Number(x) * 100)}%`;
  const districtName = (code) => {
    const d = (state.districts || []).find((x) => x.code === code);
    return d ? (ko ? d.name_ko : d.name_en) : code;
  };

  // The districts the message's places lie in, best place first (a place may lie in several).
  function placeDistricts(i) {
    const out = [];
    for (const p of [...(i.places || [])].sort((a, b) => b.score - a.score)) {
      for (const code of p.districts || []) if (!out.some((o) => o.code === code)) out.push({ code, place: p });
    }
    return out;
  }

  function firstChoice(i) {
    const best = placeDistricts(i)[0];
    const first = (i.candidates || []).find((c) => c.category && state.categories[c.category]);
    return { category: first ? first.category : null, district: best ? best.code : null };
  }

  function decisionHtml(i) {
    // A candidate without a category is the machine's "no problem": its score goes on that button.
    const none = (i.candidates || []).find((c) => !c.category);
    const cats = (i.candidates || []).filter((c) => c.category).map((c) =>
      // A category whose layer takes no reports now (a disaster layer off) is shown, not offered.
      `<button type="button" data-category="${esc(c.category)}"${state.categories[c.category] ? "" : " disabled"}>` +
      `${esc(state.categories[c.category] || c.category)} ` +
      `<span class="score">${esc(pct(c.score))}</span></button>`).join("");
    const dists = placeDistricts(i).map((d) =>
      `<button type="button" data-district="${esc(d.code)}">${esc(districtName(d.code))} ` +
      `<span class="help">(${esc(d.place.name)})</span> <span class="score">${esc(pct(d.place.score))}</span></button>`).join("");
    const all = (state.districts || []).map((d) => `<option value="${esc(d.code)}">${esc(ko ? d.name_ko : d.name_en)}</option>`).join("");
    return `<section class="intake-decide" id="intake-decide" aria-labelledby="intake-decide-title">` +
      `<h3 id="intake-decide-title">${esc(t.intake_decide)}</h3>` +
      `<p class="help">${esc(t.intake_decide_help)}</p>` +
      `<h4>${esc(t.intake_categories)} <kbd>c</kbd></h4><div class="choices" id="intake-categories">${cats || `<span class="help">—</span>`}</div>` +
      `<h4>${esc(t.intake_district)} <kbd>d</kbd></h4><div class="choices" id="intake-districts">${dists}</div>` +
      `<div class="field"><label for="intake-district-other">${esc(t.intake_district_other)}</label>` +
      `<select id="intake-district-other"><option value=""></option>${all}</select></div>` +
      `<p id="intake-error" class="form-error" role="alert"></p>` +
      `<div class="decide-buttons"><button type="button" class="primary" id="intake-go" disabled>${esc(t.intake_route)}</button>` +
      `<button type="button" id="intake-none">${esc(t.intake_no_problem)}` +
      `${none ? ` <span class="score">${esc(pct(none.score))}</span>` : ""} <kbd>n</kbd></button></div></section>`;
  }

  function markDecision() {
    const d = state.decision;
    if (!d || !$("intake-decide")) return;
    document.querySelectorAll("#intake-categories button").forEach((b) => {
      const on = b.dataset.category === d.category;
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", String(on));
    });
    let listed = false;
    document.querySelectorAll("#intake-districts button").forEach((b) => {
      const on = b.dataset.district === d.district;
      listed = listed || on;
      b.classList.toggle("chosen", on);
      b.setAttribute("aria-pressed", String(on));
    });
    $("intake-district-other").value = listed ? "" : d.district || "";
    $("intake-go").disabled = !(d.category && d.district);
  }

  // c and d step through the categories and the districts (the list's end goes back to its start).
  function cycle(listId, key) {
    const buttons = [...document.querySelectorAll(`#${listId} button:not([disabled])`)];
    if (!state.decision || !buttons.length) return;
    const at = buttons.findIndex((b) => b.dataset[key] === state.decision[key]);
    state.decision[key] = buttons[(at + 1) % buttons.length].dataset[key];
    markDecision();
  }

  // After a decision: the next report on screen, then what was done said (as route() does).
  async function next(said) {
    state.detail = null;
    state.chosen = null;
    state.decision = null;
    state.items.splice(state.current, 1);
    renderList();
    if (state.items.length) await show(Math.min(state.current, state.items.length - 1));
    else await load();
    $("done").textContent = said;
    $("item").focus();
  }

  async function decide(noProblem) {
    if (!state.detail || !state.decision) return;
    const r = state.detail, d = state.decision;
    if (!noProblem && !(d.category && d.district)) return;
    const body = noProblem ? { category: null } : { category: d.category, district: d.district };
    try {
      const res = await post(`/api/intake/reports/${encodeURIComponent(r.id)}/decision`, body);
      if (res.status === "triage") {  // decided, but the category's rule names no office in that district
        await show(state.current);
        $("intake-error").textContent = t.intake_no_office;
        return;
      }
      const office = state.offices.find((o) => o.slug === res.office);
      await next(noProblem ? `${t.intake_closed} (${r.id})`
        : t.triage_routed.replace("{office}", office ? (ko ? office.name_ko : office.name_en) : res.office) + ` (${r.id})`);
    } catch (e) { ($("intake-error") || $("work-error")).textContent = e.message; }
  }

  function render(r) {
    const reason = r.routing && r.routing.reason ? D.named(r.routing.reason) : word("reason_", r.routing && r.routing.reason_code);
    const candidates = r.candidates.map((c, i) =>
      `<li><button type="button" data-office="${esc(c.office ? c.office.slug : "")}" data-n="${i + 1}"${c.office ? "" : " disabled"}>` +
      `<kbd>${i + 1}</kbd> ${esc(D.named(c.district.name))} (${esc(relation(c))}) — ` +
      `${c.office ? esc(D.named(c.office.name)) : esc(t.triage_no_office_here)}</button></li>`).join("");
    const others = state.offices.map((o) => `<option value="${esc(o.slug)}">${esc(ko ? o.name_ko : o.name_en)}</option>`).join("");
    $("item").innerHTML = `<h2>${esc(D.catName(r))} · ${esc(r.id)}</h2>` +
      `<p>${esc(r.description)}</p>` + D.intake(r.intake, state.categories) + (r.intake ? decisionHtml(r.intake) : "") +
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
      // Said once the next report is on screen, so what the desk shows is always what the keys act on.
      await next(t.triage_routed.replace("{office}", office ? (ko ? office.name_ko : office.name_en) : slug) + ` (${r.id})`);
    } catch (e) { ($("form-error") || $("work-error")).textContent = e.message; }
  }

  function onKey(e) {
    const inText = /^(INPUT|TEXTAREA)$/.test(e.target.tagName);
    if (e.key === "Enter" && state.chosen && (inText || !/^(BUTTON|A|SELECT)$/.test(e.target.tagName))) {
      e.preventDefault();
      route();
      return;
    }
    // Without an office chosen, Enter records the message's decision (also from one of its choice buttons).
    const ready = !state.chosen && state.decision && state.decision.category && state.decision.district;
    if (e.key === "Enter" && ready && (inText || e.target.closest("#intake-categories, #intake-districts") ||
        !/^(BUTTON|A|SELECT)$/.test(e.target.tagName))) {
      e.preventDefault();
      decide(false);
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
    } else if (e.key === "c" && state.decision) {
      cycle("intake-categories", "category");
    } else if (e.key === "d" && state.decision) {
      cycle("intake-districts", "district");
    } else if (e.key === "n" && $("intake-none")) {
      $("intake-none").focus();  // then Enter or Space presses it: closing takes two keys, never one stray key
      e.preventDefault();
    }
  }

  async function start() {
    if (!(await window.staff.whoIsLoggedIn())) return;
    $("work").hidden = false;
    try {
      const [offices, layers] = await Promise.all([D.getJSON("/api/offices"), D.getJSON("/api/layers")]);
      state.offices = offices.offices;
      layers.layers.forEach((l) => l.categories.forEach((c) => { state.categories[c.slug] = window.common.name(c.name); }));
    } catch (e) { $("work-error").textContent = e.message; }
    $("triage-list").addEventListener("click", (e) => {
      const li = e.target.closest("li[data-index]");
      if (li) show(Number(li.dataset.index));
    });
    $("triage-list").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && e.target.matches("li[data-index]")) show(Number(e.target.dataset.index));
    });
    $("item").addEventListener("click", (e) => {
      const b = e.target.closest("#candidates button");
      const cat = e.target.closest("#intake-categories button"), dist = e.target.closest("#intake-districts button");
      if (b) { choose(b.dataset.office); route(); }  // one click routes to a candidate
      else if (e.target.id === "route-go") route();
      else if (cat) { state.decision.category = cat.dataset.category; markDecision(); }
      else if (dist) { state.decision.district = dist.dataset.district; markDecision(); }
      else if (e.target.closest("#intake-go")) decide(false);
      else if (e.target.closest("#intake-none")) decide(true);
    });
    $("item").addEventListener("change", (e) => {
      if (e.target.id === "other-office") choose(e.target.value);
      else if (e.target.id === "intake-district-other" && state.decision) {
        state.decision.district = e.target.value || null;
        markDecision();
      }
    });
    document.addEventListener("keydown", onKey);
    state.current = 0;
    await load();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
