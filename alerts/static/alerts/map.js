// Maps of the alerts pages: one alert with its evidence track, or the stop matching analysis.
// Data comes in data-* attributes (no inline script, CSP); tiles are optional: without them the markers still draw.
(function () {
  "use strict";
  var el = document.getElementById("al-map");
  if (!el || !window.L) return;
  var map = L.map(el, { zoomControl: true, attributionControl: false });
  var tiles = el.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 18, subdomains: "1234" }).addTo(map);
  var colours = { red: "#d93025", orange: "#f29900", yellow: "#e0c000", blue: "#1a73e8" };
  var bounds = [];

  function dot(lat, lon, colour, radius, title) {
    var m = L.circleMarker([lat, lon], { radius: radius, color: "#222", weight: 1, fillColor: colour, fillOpacity: 0.9 });
    if (title) m.bindTooltip(title);
    bounds.push([lat, lon]);
    return m.addTo(map);
  }

  if (el.dataset.map) {
    var a = JSON.parse(el.dataset.map);
    var line = (a.points || []).map(function (p) { return [p[1], p[0]]; });
    if (line.length > 1) {
      L.polyline(line, { color: "#5f6368", weight: 3 }).addTo(map);
      line.forEach(function (p) { bounds.push(p); });
    }
    dot(a.lat, a.lon, colours[a.level] || "#888", 9);
  }

  if (el.dataset.matching) {
    var m = JSON.parse(el.dataset.matching);
    m.enterprises.forEach(function (e) {
      L.circle([e.lat, e.lon], { radius: m.radius, color: e.matched ? "#d93025" : "#1a73e8", weight: 1, fillOpacity: 0.08 }).addTo(map);
      dot(e.lat, e.lon, e.matched ? "#d93025" : "#1a73e8", 7, e.name + (e.matched ? " · " + e.matched : ""));
    });
    m.stops.forEach(function (s) {
      dot(s.lat, s.lon, s.matched ? "#f29900" : "#9aa0a6", 5, s.subject + " · " + s.minutes + " min");
    });
  }

  if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  else if (bounds.length === 1) map.setView(bounds[0], 14);
  else map.setView([32.0, 120.3], 10);
  el.dataset.ready = "1";
})();
