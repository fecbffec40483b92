// What every page's scripts share, loaded before them: the page's JSON config block, HTML escaping,
// a ko/en name in the page's language, and API paths (relative to apiBase when the map is embedded).
window.common = (function () {
  "use strict";
  // The data block the server writes (no inline script: CSP): the map's, or a staff or report page's.
  const block = document.getElementById("mapapp-config") || document.getElementById("page-config");
  const config = block ? JSON.parse(block.textContent) : {};
  const locale = config.locale || document.documentElement.lang || "ko";

  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  function name(obj) { return obj ? (obj[locale] || obj.en || obj.ko || "") : ""; }
  function api(path) { return (config.apiBase || "") + path; }

  return { config, esc, name, api };
})();
