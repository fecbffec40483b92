// The report page's small map: where the report is, coloured by its status.
(function () {
  "use strict";
  const C = JSON.parse(document.getElementById("page-config").textContent);
  const map = L.map("minimap", { zoomControl: true, attributionControl: true }).setView([C.lat, C.lon], 16);
  if (C.tileUrl) L.tileLayer(C.tileUrl, { attribution: C.tileAttribution, maxZoom: 19 }).addTo(map);
  L.circleMarker([C.lat, C.lon], { radius: 9, color: "#fff", weight: 2, fillColor: C.color, fillOpacity: .95 }).addTo(map);
})();

// Reopening: the link in the reporter's e-mail carries its secret after '#', which never reaches a server log.
(function () {
  "use strict";
  const section = document.getElementById("reopen");
  if (!section) return;
  const C = JSON.parse(document.getElementById("page-config").textContent);
  const withToken = document.getElementById("reopen-with-token");
  const askLink = document.getElementById("reopen-ask-link");
  const result = document.getElementById("reopen-result");
  const match = /(?:^|[#&])reopen=([^&]+)/.exec(location.hash);
  const token = match ? decodeURIComponent(match[1]) : null;
  if (token) {
    history.replaceState(null, "", location.pathname + location.search);  // the secret leaves the address bar
    withToken.hidden = false;
    askLink.hidden = true;
    document.getElementById("reopen-reason").focus();
  }
  async function send(body) {
    const response = await fetch(`/api/reports/${encodeURIComponent(C.id)}/reopen`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((answer.error && answer.error.message) || C.t.error);
    return answer;
  }
  withToken.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await send({ token, reason: document.getElementById("reopen-reason").value });
      result.textContent = C.t.done;
      withToken.hidden = true;
      setTimeout(() => location.reload(), 1500);
    } catch (error) {
      result.textContent = error.message;
    }
  });
  askLink.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await send({ contact: document.getElementById("reopen-contact").value });
      result.textContent = C.t.sent;
    } catch (error) {
      result.textContent = error.message;
    }
  });
})();

// "Me too" from the report page, with an optional e-mail: that address is told of every step in the page's
// language and can unsubscribe in one click from any of those e-mails. One per browser (its own token).
(function () {
  "use strict";
  const form = document.getElementById("me-too-form");
  if (!form) return;
  const C = JSON.parse(document.getElementById("page-config").textContent);
  const result = document.getElementById("me-too-result");
  const button = document.getElementById("me-too-button");
  function supporterToken() {
    let token = localStorage.getItem("mapapp-supporter");  // the same token the map's "me too" uses
    if (!token) {
      token = window.crypto && crypto.randomUUID ? crypto.randomUUID() : "k" + Date.now().toString(36) + Math.random().toString(36).slice(2);
      localStorage.setItem("mapapp-supporter", token);
    }
    return token;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const email = document.getElementById("me-too-email").value.trim();
    const body = { supporter: supporterToken(), locale: C.locale };
    if (email) body.email = email;
    try {
      const response = await fetch(`/api/reports/${encodeURIComponent(C.id)}/support`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        const code = answer.error && answer.error.code;
        throw new Error((C.errors || {})[code] || (answer.error && answer.error.message) || C.t.error);
      }
      document.getElementById("supporters").textContent = `${answer.supporters} ${C.t.supporters}`;
      result.textContent = answer.following ? C.t.following : C.t.me_too_done;
      button.textContent = C.t.me_too_done;
    } catch (error) {
      result.textContent = error.message;
      button.disabled = false;
    }
  });
})();
