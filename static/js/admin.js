// City administration: switch disaster layers, route triage reports by hand, see offices, users, boundaries.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = window.common.config.t;
  const { esc, name } = window.common;
  const { post, word, time, fromCityTime } = window.staff;
  const ko = window.common.config.locale === "ko";
  function rows(id, items, cells) {
    $(id).querySelector("tbody").innerHTML = items.map((i) => "<tr>" + cells(i).map((c) => `<td>${c}</td>`).join("") + "</tr>").join("");
  }

  async function load() {
    const res = await fetch("/api/admin/overview", { credentials: "same-origin" });
    if (!res.ok) { $("admin-error").textContent = (await res.json()).error.message; return; }
    const data = await res.json();
    $("layers").innerHTML = data.layers.map((l) => {
      const controls = l.kind !== "disaster" ? "" : (l.state === "active"
        ? `<button type="button" data-off="${esc(l.slug)}">${esc(t.deactivate)}</button>`
        : `<label>${esc(t.banner_ko)} <input id="bko-${esc(l.slug)}"></label> <label>${esc(t.banner_en)} <input id="ben-${esc(l.slug)}"></label>
           <label>${esc(t.until)} (${esc(window.common.config.zoneName)}) <input type="datetime-local" id="until-${esc(l.slug)}"></label>
           <button type="button" data-on="${esc(l.slug)}">${esc(t.activate)}</button>`);
      const cats = l.categories.map((c) => `${esc(name(c.name))} (${esc(word("level_", c.level))} · ${esc(word("dept_", c.department))}, ${esc(c.response_hours)}${esc(t.hours)})`).join(", ");
      return `<section class="layer" data-layer="${esc(l.slug)}"><h3>${esc(name(l.name))} — <span class="state" data-state="${esc(l.state)}">${esc(word("state_", l.state))}</span>` +
        `${l.until ? " → " + esc(time(l.until)) : ""}</h3><p>${cats}</p><p>${controls}</p></section>`;
    }).join("");
    const officeName = {};
    data.offices.forEach((o) => { officeName[o.slug] = ko ? o.name_ko : o.name_en; });
    const officeOptions = data.offices.map((o) => `<option value="${esc(o.slug)}">${esc(officeName[o.slug])}</option>`).join("");
    rows("offices", data.offices, (o) => [esc(officeName[o.slug]), esc(word("dept_", o.department)), esc(o.staff)]);
    rows("users", data.users, (u) => [esc(u.email), esc(word("role_", u.role)), esc(u.office ? officeName[u.office] || u.office : ""),
      esc(u.active ? t.yes : t.no)]);
    rows("boundaries", data.boundaries, (b) => [esc(word("level_", b.level)), esc(b.active), esc(b.vertices), esc(b.parts)]);
    const triage = await (await fetch("/api/triage", { credentials: "same-origin" })).json();
    rows("triage", triage.reports, (r) => [`<a href="/reports/${esc(r.id)}">${esc(r.id)}</a>`,
      esc((ko ? r.category_ko : r.category_en) || r.category), `<time datetime="${esc(r.created_at)}">${esc(time(r.created_at))}</time>`,
      esc(word("reason_", r.reason_code)),
      `<select aria-label="${esc(t.office_slug)}" id="to-${esc(r.id)}">${officeOptions}</select> <button type="button" data-route="${esc(r.id)}">${esc(t.route_to)}</button>`]);
  }

  document.addEventListener("click", async (e) => {
    const d = e.target.dataset;
    try {
      if (d.on) {
        const until = $("until-" + d.on).value;
        await post(`/api/layers/${d.on}/activate`, { banner_ko: $("bko-" + d.on).value || null,
          banner_en: $("ben-" + d.on).value || null, until: fromCityTime(until) });
      } else if (d.off) {
        await post(`/api/layers/${d.off}/deactivate`);
      } else if (d.route) {
        await post(`/api/triage/${d.route}/route`, { office: $("to-" + d.route).value, note: "admin page" });
      } else { return; }
      await load();
    } catch (err) { $("admin-error").textContent = err.message; }
  });

  document.addEventListener("DOMContentLoaded", async () => {
    if (!(await window.staff.whoIsLoggedIn())) return;
    $("admin").hidden = false;
    load();
  });
})();
