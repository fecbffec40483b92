// Shared by the staff pages (after common.js): the log-in form, and POSTs carrying the CSRF token.
window.staff = (function () {
  "use strict";
  async function post(url, body, isForm) {
    const csrf = sessionStorage.getItem("mapapp-csrf") || "";
    const res = await fetch(url, { method: "POST", credentials: "same-origin",
      headers: isForm ? { "X-CSRF-Token": csrf } : { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: isForm ? body : JSON.stringify(body || {}) });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || res.status);
    return data;
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
      sessionStorage.setItem("mapapp-csrf", data.csrf_token);
      window.location.reload();
    });
    const me = await fetch("/api/auth/me", { credentials: "same-origin" });
    if (!me.ok) { form.hidden = false; document.getElementById("l-email").focus(); return null; }
    return me.json();
  }
  return { post, whoIsLoggedIn };
})();
