// City administration: switch disaster layers, route triage reports by hand, see offices, users, boundaries.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = window.common.config.t;
  const { esc, name } = window.common;
  const { post } = window.staff;
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
           <label>${esc(t.until)} <input type="datetime-local" id="until-${esc(l.slug)}"></label>
           <button type="button" data-on="${esc(l.slug)}">${esc(t.activate)}</button>`);
      const cats = l.categories.map((c) => `${esc(name(c.name))} (${esc(c.level)}/${esc(c.department)}, ${c.response_hours}h)`).join(", ");
      return `<section class="layer" data-layer="${esc(l.slug)}"><h3>${esc(name(l.name))} — <span class="state">${esc(l.state)}</span>` +
        `${l.until ? " → " + esc(l.until) : ""}</h3><p>${cats}</p><p>${controls}</p></section>`;
    }).join("");
    const officeOptions = data.offices.map((o) => `<option value="${esc(o.slug)}">${esc(o.slug)} ${esc(window.common.config.locale === "ko" ? o.name_ko : o.name_en)}</option>`).join("");
    rows("offices", data.offices, (o) => [esc(o.slug), esc(window.common.config.locale === "ko" ? o.name_ko : o.name_en), esc(o.department), esc(o.staff)]);
    rows("users", data.users, (u) => [esc(u.email), esc(u.role), esc(u.office || ""), u.active ? "✓" : "✗"]);
    rows("boundaries", data.boundaries, (b) => [esc(b.level), esc(b.active), esc(b.vertices), esc(b.parts)]);
    const triage = await (await fetch("/api/triage", { credentials: "same-origin" })).json();
    rows("triage", triage.reports, (r) => [`<a href="/reports/${esc(r.id)}">${esc(r.id)}</a>`, esc(r.category), esc(r.reason_code),
      `<select aria-label="${esc(t.office_slug)}" id="to-${esc(r.id)}">${officeOptions}</select> <button type="button" data-route="${esc(r.id)}">${esc(t.route_to)}</button>`]);
  }

  document.addEventListener("click", async (e) => {
    const d = e.target.dataset;
    try {
      if (d.on) {
        const until = $("until-" + d.on).value;
        await post(`/api/layers/${d.on}/activate`, { banner_ko: $("bko-" + d.on).value || null,
          banner_en: $("ben-" + d.on).value || null, until: until ? new Date(until).toISOString() : null });
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
