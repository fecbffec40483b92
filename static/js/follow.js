// Following a report: "me too" with an e-mail (the same browser token as the map's "me too").
(function () {
  "use strict";
  const form = document.getElementById("follow-form");
  if (!form) return;
  const result = document.getElementById("follow-result");
  function supporterToken() {
    let token = localStorage.getItem("mapapp-supporter");
    if (!token) {
      token = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
      localStorage.setItem("mapapp-supporter", token);
    }
    return token;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = document.getElementById("follow-email").value.trim();
    try {
      const response = await fetch(`/api/reports/${encodeURIComponent(form.dataset.report)}/support`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ supporter: supporterToken(), email, locale: form.dataset.locale }),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error((answer.error && answer.error.message) || form.dataset.error);
      result.textContent = answer.following ? form.dataset.done : form.dataset.counted;
      const count = document.getElementById("supporters");
      if (count && typeof answer.supporters === "number") count.textContent = count.textContent.replace(/^\d+/, answer.supporters);
      form.hidden = answer.following;
    } catch (error) {
      result.textContent = error.message;
    }
  });
})();
