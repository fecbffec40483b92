// The public dashboard: charts drawn from the figures the page already shows in its tables, and the districts
// coloured by the chosen indicator. Everything is in the page's JSON; nothing is fetched but the outlines.
(function () {
  "use strict";
  const C = JSON.parse(document.getElementById("stats-config").textContent);
  const S = C.stats, W = C.words, loc = C.locale;
  const fmt = new Intl.NumberFormat(loc === "ko" ? "ko-KR" : "en-GB");
  const nameOf = (r) => (r.name ? r.name[loc] : (C.labels.channel[r.code] || r.code));
  const BLUE = "#1d4ed8", GREEN = "#15803d", RED = "#dc2626";

  if (window.Chart) {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.animation = false;
    new Chart(document.getElementById("chart-backlog"), {
      type: "line",
      data: {
        labels: S.backlog.map((b) => b.day),
        datasets: [{ label: W.open, data: S.backlog.map((b) => b.open), borderColor: RED, backgroundColor: "rgba(220,38,38,.12)",
                     fill: true, pointRadius: 0, tension: 0.1 }],
      },
      options: { maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { ticks: { maxTicksLimit: 6 } }, y: { beginAtZero: true } } },
    });
    for (const key of ["by_category", "by_layer", "by_channel"]) {
      const rows = S[key];
      // Room for every label: a category chart has a dozen rows, a channel chart one or two.
      const canvas = document.getElementById("chart-" + key);
      canvas.parentElement.style.height = Math.max(10, 3 + rows.length * 2.4) + "rem";
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: rows.map(nameOf),
          datasets: [
            { label: W.received, data: rows.map((r) => r.received), backgroundColor: BLUE },
            { label: W.resolved, data: rows.map((r) => r.resolved), backgroundColor: GREEN },
            { label: W.open_at_end, data: rows.map((r) => r.open_at_end), backgroundColor: RED },
          ],
        },
        options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { position: "bottom" } },
                   scales: { x: { beginAtZero: true } } },
      });
    }
  }

  // The choropleth: five classes from the lowest to the highest district, the legend saying where each begins.
  const box = document.getElementById("choropleth");
  if (!box || !window.L) return;
  const map = L.map(box, { zoomControl: true, scrollWheelZoom: false });
  if (C.tileUrl) L.tileLayer(C.tileUrl, { attribution: C.tileAttribution, maxZoom: 18, opacity: 0.5 }).addTo(map);
  const byCode = Object.fromEntries(S.districts.map((d) => [d.code, d]));
  const shades = ["#eff6ff", "#bfdbfe", "#60a5fa", "#2563eb", "#1e3a8a"];
  let indicator = C.indicator, layer = null, legend = null;
  const valueOf = (d) => (d ? d[indicator] : null);
  const show = (v) => (v === null || v === undefined ? W.no_data
    : indicator === "within_target_share" ? Math.round(v * 100) + "%" : fmt.format(v));
  function classes() {
    const values = S.districts.map(valueOf).filter((v) => v !== null && v !== undefined);
    const lo = Math.min(...values), hi = Math.max(...values);
    if (!values.length) return [];
    const step = (hi - lo) / 5;
    // Counts start their classes at whole numbers; shares at whole percents.
    const round = indicator === "within_target_share" ? (v) => Math.floor(v * 100) / 100 : Math.floor;
    return Array.from({ length: 5 }, (_, i) => round(lo + step * i)).filter((v, i, a) => i === 0 || v > a[i - 1]);
  }
  function colour(v, breaks) {
    if (v === null || v === undefined || !breaks.length) return "#d1d5db";
    let i = 0;
    while (i + 1 < breaks.length && v >= breaks[i + 1]) i++;
    return shades[i];
  }
  function paint() {
    if (!layer) return;
    const breaks = classes();
    layer.setStyle((f) => ({ fillColor: colour(valueOf(byCode[f.properties.code]), breaks), fillOpacity: 0.85,
                             color: f.properties.code === S.scope.code ? "#f59e0b" : "#fff",
                             weight: f.properties.code === S.scope.code ? 4 : 1 }));
    layer.eachLayer((l) => {
      const d = byCode[l.feature.properties.code];
      l.bindTooltip(`${l.feature.properties["name_" + loc]}: ${show(valueOf(d))}`, { sticky: true });
    });
    if (legend) legend.remove();
    legend = L.control({ position: "bottomright" });
    legend.onAdd = () => {
      const div = L.DomUtil.create("div", "choropleth-legend");
      const title = document.createElement("strong");
      title.textContent = C.labels.indicator[indicator];
      div.appendChild(title);
      breaks.forEach((b, i) => {
        const row = document.createElement("div");
        const sw = document.createElement("i");
        sw.style.background = shades[i];
        row.appendChild(sw);
        row.appendChild(document.createTextNode("≥ " + show(b)));
        div.appendChild(row);
      });
      return div;
    };
    legend.addTo(map);
  }
  fetch("/api/jurisdictions/districts").then((r) => r.json()).then((geo) => {
    layer = L.geoJSON(geo, {
      onEachFeature: (f, l) => l.on("click", () => {
        location.href = `/stats?scope=district&code=${encodeURIComponent(f.properties.code)}&from=${S.period.from}&to=${S.period.to}&indicator=${indicator}&lang=${loc}`;
      }),
    }).addTo(map);
    if (layer.getBounds().isValid()) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    paint();
  });
  document.getElementById("indicator").addEventListener("change", (e) => {
    indicator = e.target.value;
    const url = new URL(location.href);
    url.searchParams.set("indicator", indicator);
    history.replaceState(null, "", url);
    paint();
  });
})();
