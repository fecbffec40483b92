// Moderation: open a report, hide or show it and each photo (with a reason staff keep), approve held photos,
// edit the public description. The server decides who may; the public reads apply core/visibility.py.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = window.common.config.t;
  const { esc, name } = window.common;
  const { post, word, time } = window.staff;
  let current = null;

  function photoState(p) { return p.hidden_at ? "hidden" : (p.held ? "held" : "public"); }
  const STATE_WORD = { hidden: t.hidden_now, held: t.held_now, public: t.public_now };

  async function openReport(id) {
    $("mod-error").textContent = "";
    const res = await fetch(`/api/moderation/reports/${encodeURIComponent(id)}`, { credentials: "same-origin" });
    const body = await res.json();
    if (!res.ok) { $("mod-error").textContent = body.error.message; return; }
    current = body;
    $("detail").hidden = false;
    $("detail-link").textContent = `${name(body.category_name)} · ${body.id}`;
    $("detail-link").href = `/reports/${encodeURIComponent(body.id)}`;
    const hidden = !body.public;
    $("detail-state").textContent = hidden ? t.hidden_now : t.public_now;
    $("detail-state").className = "state-tag" + (hidden ? " hidden" : "");
    $("hide-report-button").textContent = hidden ? t.unhide : t.hide;
    $("report-reason").required = !hidden;
    $("description").value = body.description || "";
    $("original").hidden = body.original_description == null;
    $("original-text").textContent = body.original_description || "";
    $("photos").innerHTML = body.photos.map((p, n) => {
      const state = photoState(p);
      const buttons = state === "hidden"
        ? `<button type="button" data-unhide="${p.id}">${esc(t.unhide)}</button>`
        : `<label>${esc(t.hide_reason)} <input id="reason-${p.id}" maxlength="2000"></label>
           <button type="button" data-hide="${p.id}">${esc(t.hide)}</button>` +
          (state === "held" ? ` <button type="button" data-approve="${p.id}">${esc(t.approve)}</button>` : "");
      return `<figure class="photo-card ${state}" data-photo="${p.id}"><img src="${esc(p.thumbnail)}" alt="${esc(t.photo_alt)} ${n + 1}">` +
        `<figcaption><span class="state-tag ${state}">${esc(STATE_WORD[state])}</span>` +
        `${p.hidden_reason ? " " + esc(p.hidden_reason) : ""}<br>${buttons}</figcaption></figure>`;
    }).join("");
    $("log").innerHTML = body.moderation.map((e) => `<li><time datetime="${esc(e.at)}">${esc(time(e.at))}</time> — ` +
      `${esc(word("ev_", e.kind))} (${esc(e.actor)})${e.note ? ": " + esc(e.note) : ""}</li>`).join("");
  }

  async function loadWorklist() {
    const res = await fetch("/api/moderation/worklist", { credentials: "same-origin" });
    if (!res.ok) return;
    const items = (await res.json()).items;
    $("worklist").innerHTML = items.length ? items.map((i) => `<li>` +
      (i.thumbnail && i.photo_id ? `<img src="${esc(i.thumbnail)}" alt="">` : "") +
      `<span class="state-tag ${esc(i.state)}">${esc(word("mod_", i.state))}</span> ` +
      `<button type="button" data-open="${esc(i.id)}">${esc(name(i.category_name))} · ${esc(i.id)}</button></li>`).join("")
      : `<li>${esc(t.nothing_waiting)}</li>`;
  }

  async function act(work) {
    $("mod-error").textContent = "";
    $("mod-status").textContent = "";
    try {
      await work();
      $("mod-status").textContent = t.saved;
      await Promise.all([openReport(current.id), loadWorklist()]);
    } catch (err) { $("mod-error").textContent = err.message; }
  }

  document.addEventListener("click", (e) => {
    const d = e.target.dataset || {};
    if (d.open) { $("report-id").value = d.open; openReport(d.open); }
    else if (d.hide) act(() => post(`/api/moderation/photos/${d.hide}/hide`, { reason: $("reason-" + d.hide).value }));
    else if (d.unhide) act(() => post(`/api/moderation/photos/${d.unhide}/unhide`, {}));
    else if (d.approve) act(() => post(`/api/moderation/photos/${d.approve}/approve`));
  });

  document.addEventListener("DOMContentLoaded", async () => {
    if (!(await window.staff.whoIsLoggedIn())) return;
    $("moderate").hidden = false;
    $("open-report").addEventListener("submit", (e) => { e.preventDefault(); openReport($("report-id").value.trim()); });
    $("hide-report").addEventListener("submit", (e) => {
      e.preventDefault();
      const verb = current.public ? "hide" : "unhide";
      act(() => post(`/api/moderation/reports/${encodeURIComponent(current.id)}/${verb}`, { reason: $("report-reason").value }));
    });
    $("edit-description").addEventListener("submit", (e) => {
      e.preventDefault();
      act(() => post(`/api/moderation/reports/${encodeURIComponent(current.id)}/description`,
        { description: $("description").value, reason: $("edit-reason").value }));
    });
    const wanted = new URLSearchParams(location.search).get("report");
    if (wanted) { $("report-id").value = wanted; openReport(wanted); }
    loadWorklist();
  });
})();
