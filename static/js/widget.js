// One line on another site: <script src="https://map.example/widget.js" data-layer="flood" data-district="11440"
// data-mode="view" data-lang="ko" data-height="480"></script> puts the map there, in a responsive iframe.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src).origin;
  var params = new URLSearchParams();
  ["layer", "district", "mode", "lang"].forEach(function (key) {
    var value = script.getAttribute("data-" + key);
    if (value) params.set(key, value);
  });
  var frame = document.createElement("iframe");
  frame.src = origin + "/embed?" + params.toString();
  frame.title = script.getAttribute("data-title") || "mapapp";
  frame.loading = "lazy";
  frame.style.width = "100%";
  frame.style.maxWidth = "100%";
  frame.style.border = "0";
  frame.style.height = (parseInt(script.getAttribute("data-height"), 10) || 480) + "px";
  frame.setAttribute("allow", "geolocation");
  script.parentNode.insertBefore(frame, script.nextSibling);
})();
