// The admin desk: disaster layers, offices, users (roles, offices, disabling, password resets), API keys,
// boundaries, and a link to the triage desk (/triage). Every change is checked by the server.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = window.common.config.t;
  const { esc, name } = window.common;
  const { post, word, time, fromCityTime } = window.staff;
  const ko = window.common.config.locale === "ko";
  const patch = (url, body) => post(url, body, false, "PATCH");
  const ROLES = ["admin", "triage", "manager", "staff"];
  let data = null;

  function rows(id, items, cells, labels) {
    const heads = labels || [...$(id).querySelectorAll("thead th")].map((th) => th.textContent);
    $(id).querySelector("tbody").innerHTML = items.map((i) => `<tr data-key="${esc(i.key || "")}">` +
      cells(i).map((c, n) => `<td data-label="${esc(heads[n] || "")}">${c}</td>`).join("") + "</tr>").join("");
  }
  const options = (items, value, label) => items.map((v) =>
    `<option value="${esc(v)}"${v === value ? " selected" : ""}>${esc(label(v))}</option>`).join("");
  const officeName = (slug) => { const o = data.offices.find((x) => x.slug === slug); return o ? (ko ? o.name_ko : o.name_en) : ""; };
  const areaName = (code) => { const a = data.jurisdictions.find((x) => x.code === code); return a ? (ko ? a.name_ko : (a.name_en || a.name_ko)) : code; };

  function drawLayers() {
    $("layers").innerHTML = data.layers.map((l) => {
      // l.state is the effective state: a layer past its end time reads inactive and offers Activate again.
      const controls = l.kind !== "disaster" ? "" : (l.state === "active"
        ? `<button type="button" data-off="${esc(l.slug)}">${esc(t.deactivate)}</button>`
        : `<label>${esc(t.banner_ko)} <input id="bko-${esc(l.slug)}"></label> <label>${esc(t.banner_en)} <input id="ben-${esc(l.slug)}"></label>
           <label>${esc(t.until)} (${esc(window.common.config.zoneName)}) <input type="datetime-local" id="until-${esc(l.slug)}"></label>
           <button type="button" data-on="${esc(l.slug)}">${esc(t.activate)}</button>`);
      const banner = l.state === "active" && name(l.banner) ? `<p class="help">${esc(name(l.banner))}</p>` : "";
      const cats = l.categories.map((c) => `${esc(name(c.name))} (${esc(word("level_", c.level))} · ${esc(word("dept_", c.department))}, ` +
        `${esc(c.response_hours)}${esc(t.hours)}${c.hold_photos ? " · " + esc(t.hold_photos) : ""})`).join(", ");
      return `<section class="layer" data-layer="${esc(l.slug)}"><h3>${esc(name(l.name))} — <span class="state" data-state="${esc(l.state)}">${esc(word("state_", l.state))}</span>` +
        `${l.state === "active" && l.until ? " → " + esc(time(l.until)) : ""}</h3>${banner}<p>${cats}</p><p>${controls}</p></section>`;
    }).join("");
  }

  function drawOffices() {
    rows("offices", data.offices.map((o) => ({ ...o, key: o.slug })), (o) => [
      `${esc(o.name_ko)}<br><span lang="en">${esc(o.name_en)}</span>`,
      esc(word("dept_", o.department)), esc(areaName(o.jurisdiction)), esc(o.email || ""),
      esc(o.staff), `<span class="${o.active ? "" : "off"}">${esc(o.active ? t.yes : t.no)}</span>`,
      `<button type="button" data-office-edit="${esc(o.slug)}">${esc(t.edit)}</button>` +
      `<button type="button" data-office-active="${esc(o.slug)}" data-to="${o.active ? "0" : "1"}">${esc(o.active ? t.disable : t.enable)}</button>`]);
    $("o-area").innerHTML = options(data.jurisdictions.map((a) => a.code), null, areaName);
    $("o-dept").innerHTML = options(data.departments, null, (d) => word("dept_", d));
    const officeChoices = `<option value="">${esc(t.no_office)}</option>` + options(data.offices.filter((o) => o.active).map((o) => o.slug), null, officeName);
    $("u-office").innerHTML = officeChoices;
    $("u-role").innerHTML = options(ROLES, "staff", (r) => word("role_", r));
  }

  function drawUsers() {
    const offices = [""].concat(data.offices.map((o) => o.slug));
    rows("users", data.users.map((u) => ({ ...u, key: String(u.id) })), (u) => [
      esc(u.email), esc(u.name),
      `<select aria-label="${esc(t.role)}" id="ur-${u.id}">${options(ROLES, u.role, (r) => word("role_", r))}</select>`,
      `<select aria-label="${esc(t.office_slug)}" id="uo-${u.id}">${options(offices, u.office || "", (s) => s ? officeName(s) : t.no_office)}</select>`,
      `<span class="${u.active ? "" : "off"}">${esc(u.active ? t.yes : t.no)}</span>`,
      `<button type="button" data-user-save="${u.id}">${esc(t.save)}</button>` +
      `<button type="button" data-user-active="${u.id}" data-to="${u.active ? "0" : "1"}">${esc(u.active ? t.disable : t.enable)}</button>` +
      (u.active ? `<button type="button" data-user-reset="${u.id}">${esc(t.send_reset)}</button>` : "")]);
  }

  function drawKeys() {
    rows("keys", data.api_keys.map((k) => ({ ...k, key: String(k.id) })), (k) => [esc(k.name),
      `<time datetime="${esc(k.created_at)}">${esc(time(k.created_at))}</time>`,
      k.revoked_at ? `<span class="off">${esc(t.revoked)} ${esc(time(k.revoked_at))}</span>` : esc(t.state_active),
      k.revoked_at ? "" : `<button type="button" data-key-revoke="${k.id}">${esc(t.revoke)}</button>`]);
  }

  async function load() {
    const res = await fetch("/api/admin/overview", { credentials: "same-origin" });
    if (!res.ok) { $("admin-error").textContent = (await res.json()).error.message; return; }
    data = await res.json();
    drawLayers();
    drawOffices();
    drawUsers();
    drawKeys();
    document.querySelectorAll("input[data-filter]").forEach(filterRows);
    rows("boundaries", data.boundaries, (b) => [esc(word("level_", b.level)), esc(b.active), esc(b.vertices), esc(b.parts)]);
  }

  async function act(work, done) {
    $("admin-error").textContent = "";
    $("admin-status").textContent = "";
    try {
      await work();
      await load();
      $("admin-status").textContent = done || t.saved;
    } catch (err) { $("admin-error").textContent = err.message; }
  }

  document.addEventListener("click", (e) => {
    const d = e.target.dataset || {};
    if (d.on) {
      act(() => post(`/api/layers/${d.on}/activate`, { banner_ko: $("bko-" + d.on).value || null,
        banner_en: $("ben-" + d.on).value || null, until: fromCityTime($("until-" + d.on).value) }));
    } else if (d.off) {
      act(() => post(`/api/layers/${d.off}/deactivate`));
    } else if (d.officeEdit) {
      const o = data.offices.find((x) => x.slug === d.officeEdit);
      $("e-slug").textContent = ko ? o.name_ko : o.name_en;
      $("edit-office").dataset.slug = o.slug;
      $("e-name-ko").value = o.name_ko;
      $("e-name-en").value = o.name_en;
      $("e-email").value = o.email || "";
      $("edit-office").hidden = false;
      $("e-name-ko").focus();
    } else if (d.officeActive) {
      act(() => patch(`/api/admin/offices/${encodeURIComponent(d.officeActive)}`, { active: d.to === "1" }));
    } else if (d.userSave) {
      const id = d.userSave;
      act(() => patch(`/api/admin/users/${id}`, { role: $("ur-" + id).value, office: $("uo-" + id).value || null }));
    } else if (d.userActive) {
      act(() => patch(`/api/admin/users/${d.userActive}`, { active: d.to === "1" }));
    } else if (d.userReset) {
      act(() => post(`/api/admin/users/${d.userReset}/password-reset`), t.reset_sent);
    } else if (d.keyRevoke) {
      $("new-key-shown").hidden = true;  // a key on screen is for copying once, not for keeping there
      act(() => post(`/api/admin/api-keys/${d.keyRevoke}/revoke`));
    }
  });

  // Typing in a table's search box shows only the rows that contain the words (79 offices are a long list).
  function filterRows(input) {
    const words = input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
    $(input.dataset.filter).querySelectorAll("tbody tr").forEach((tr) => {
      const text = tr.textContent.toLowerCase();
      tr.hidden = !words.every((w) => text.includes(w));
    });
  }
  document.addEventListener("input", (e) => { if (e.target.dataset && e.target.dataset.filter) filterRows(e.target); });

  function onSubmit(id, work) {
    $(id).addEventListener("submit", (e) => { e.preventDefault(); act(() => work(e.target)); });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    if (!(await window.staff.whoIsLoggedIn())) return;
    $("admin").hidden = false;
    onSubmit("new-office", async (form) => {
      await post("/api/admin/offices", { jurisdiction: $("o-area").value, department: $("o-dept").value,
        name_ko: $("o-name-ko").value, name_en: $("o-name-en").value, email: $("o-email").value || null });
      form.reset();
    });
    onSubmit("edit-office", async (form) => {
      await patch(`/api/admin/offices/${encodeURIComponent(form.dataset.slug)}`, { name_ko: $("e-name-ko").value,
        name_en: $("e-name-en").value, email: $("e-email").value });
      form.hidden = true;
    });
    onSubmit("new-user", async (form) => {
      await post("/api/admin/users", { email: $("u-email").value, name: $("u-name").value, role: $("u-role").value,
        office: $("u-office").value || null });
      form.reset();
    });
    onSubmit("new-key", async (form) => {
      const made = await post("/api/admin/api-keys", { name: $("k-name").value });
      form.reset();
      $("new-key-value").textContent = made.key;
      $("new-key-shown").hidden = false;
    });
    load();
  });
})();
