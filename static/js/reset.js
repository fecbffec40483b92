// Choosing a new password from an e-mailed link: its secret is after '#', which never reaches a server log.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const t = window.common.config.t;
  const errors = window.common.config.errors || {};
  const match = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
  const token = match ? decodeURIComponent(match[1]) : null;
  if (token) history.replaceState(null, "", location.pathname + location.search);
  else { $("reset-no-token").hidden = false; $("reset").hidden = true; return; }
  $("reset").addEventListener("submit", async (e) => {
    e.preventDefault();
    if ($("r-password").value !== $("r-repeat").value) { $("reset-error").textContent = t.passwords_differ; return; }
    const res = await fetch("/api/auth/password-reset", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token, password: $("r-password").value }) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      const code = body.error && body.error.code;
      $("reset-error").textContent = errors[code] || (body.error && body.error.message) || res.status;
      return;
    }
    $("reset").hidden = true;
    $("reset-done").hidden = false;
  });
})();
