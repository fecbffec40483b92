// Shared by the staff pages (after common.js): log-in and log-out, POSTs carrying the session's CSRF token,
// and the words, times and colours every staff page shows (never a raw code).
window.staff = (function () {
  "use strict";
  const C = window.common.config;
  const t = C.t || {};
  // The CSRF token is the session's, read from /api/auth/me by every tab: a second tab works like the first.
  let csrf = "";

  async function post(url, body, isForm, method) {
    const res = await fetch(url, { method: method || "POST", credentials: "same-origin",
      headers: isForm ? { "X-CSRF-Token": csrf } : { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: isForm ? body : JSON.stringify(body || {}) });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) { window.location.reload(); }  // logged out (in another tab, or expired)
    if (!res.ok) throw new Error((data.error && data.error.message) || res.status);
    return data;
  }

  // A workflow status, a layer state, a role, a level or a reason code in words; the code only if unknown.
  function word(prefix, code) { return t[prefix + code] || String(code == null ? "" : code); }

  // "2026-05-01 20:29 KST": the city's time zone (settings.time_zone), whatever the browser's zone.
  const FORMAT = new Intl.DateTimeFormat("en-CA", { timeZone: C.timeZone || "UTC", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  function time(iso) {
    if (!iso) return "";
    const p = Object.fromEntries(FORMAT.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${C.zoneName || ""}`.trim();
  }

  // A datetime-local value ("2026-05-01T20:29") read as the city's wall-clock time, as an ISO instant.
  function fromCityTime(value) {
    if (!value) return null;
    const guess = Date.parse(value + "Z");
    const p = Object.fromEntries(FORMAT.formatToParts(new Date(guess)).map((x) => [x.type, x.value]));
    const wall = Date.parse(`${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}Z`);
    return new Date(guess - (wall - guess)).toISOString();
  }

  function colour(status) { return (C.statusColors || {})[(C.statusGroups || {})[status]] || "#2563eb"; }

  async function logOut() {
    try { await post("/api/auth/logout"); } catch (e) { /* already ended: reload shows the log-in form */ }
    window.location.reload();
  }

  // Resolves with who is logged in, or shows the log-in form (which reloads the page once it succeeds).
  async function whoIsLoggedIn() {
    const form = document.getElementById("login");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const res = await fetch("/api/auth/login", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: document.getElementById("l-email").value,
                               password: document.getElementById("l-password").value }) });
      const data = await res.json();
      if (!res.ok) { document.getElementById("login-error").textContent = data.error.message; return; }
      window.location.reload();
    });
    const res = await fetch("/api/auth/me", { credentials: "same-origin" });
    if (!res.ok) { form.hidden = false; document.getElementById("l-email").focus(); return null; }
    const me = await res.json();
    csrf = me.csrf_token || "";
    const who = document.getElementById("who"), out = document.getElementById("log-out");
    who.textContent = `${t.logged_in_as}: ${me.email} (${word("role_", me.role)})`;
    who.hidden = false;
    out.hidden = false;
    out.addEventListener("click", logOut);
    return me;
  }
  return { post, whoIsLoggedIn, word, time, colour, fromCityTime };
})();
