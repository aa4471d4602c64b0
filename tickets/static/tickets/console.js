// The dispatcher console: the map of the queue (and of the selected ticket with its grid and neighbours),
// tab counts that follow the wall's events, photos opened large, bulk selection and keyboard shortcuts.
(function () {
  "use strict";
  const desk = document.getElementById("tk-desk");
  if (!desk) return;
  const data = (id) => { const n = document.getElementById(id); return n ? JSON.parse(n.textContent) : null; };
  const points = data("tk-points") || [], area = data("tk-area"), focus = data("tk-focus"), grid = data("tk-grid"), nearby = data("tk-nearby") || [];

  // ------------------------------------------------------------------ map
  let map = null;
  if (window.L && document.getElementById("tk-map")) {
    map = L.map("tk-map", { zoomControl: true, attributionControl: false });
    if (desk.dataset.tiles) L.tileLayer(desk.dataset.tiles, { maxZoom: 19, subdomains: "1234" }).addTo(map);
    const bounds = [];
    if (area) {
      const layer = L.geoJSON(JSON.parse(area), { style: { color: "#0b5cad", weight: 2, fillOpacity: 0.04 }, interactive: false }).addTo(map);
      if (!focus && !points.length) bounds.push(layer.getBounds());  // an empty queue shows the whole area
    }
    const icon = (cls) => L.divIcon({ className: "", html: `<div class="tk-marker ${cls}"></div>`, iconSize: [18, 18], iconAnchor: [9, 9] });
    const link = (p) => `/console/t/${p.id}/`;
    const shown = new Set();
    const add = (p, cls) => {
      if (shown.has(p.id)) return;
      shown.add(p.id);
      const m = L.marker([p.lat, p.lon], { icon: icon(cls), title: p.number + " " + p.title, zIndexOffset: cls === "focus" ? 1000 : 0 }).addTo(map);
      m.bindTooltip(p.title, { direction: "top" });
      m.on("click", () => { window.location.href = link(p); });
      return m;
    };
    if (focus) add(focus, "focus");
    if (grid) {
      const g = L.geoJSON(JSON.parse(grid), { style: { color: "#d93025", weight: 3, dashArray: "6 4", fillOpacity: 0.08 }, interactive: false }).addTo(map);
      bounds.push(g.getBounds());
    }
    nearby.forEach((p) => add(p, "near"));
    points.forEach((p) => add(p, p.light));
    if (focus) {
      bounds.push(L.latLngBounds([[focus.lat, focus.lon], [focus.lat, focus.lon]]));
      nearby.forEach((p) => bounds.push(L.latLngBounds([[p.lat, p.lon], [p.lat, p.lon]])));
    } else if (points.length) {
      bounds.push(L.latLngBounds(points.map((p) => [p.lat, p.lon])));
    }
    const all = bounds.reduce((acc, b) => (acc ? acc.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast())), null);
    if (all && all.isValid()) map.fitBounds(all.pad(0.08), { maxZoom: focus ? 16 : 15 }); else map.setView([32.0, 120.3], 11);
  }

  // ------------------------------------------------------------------ live counts
  const countsUrl = desk.dataset.counts;
  async function refreshCounts() {
    const r = await fetch(countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } }).catch(() => null);
    if (!r || !r.ok) return;
    const body = await r.json();
    Object.entries(body.counts).forEach(([key, n]) => {
      const el = document.querySelector(`[data-count="${key}"]`);
      if (el && el.textContent !== String(n)) {
        el.textContent = n;
        el.classList.remove("bumped"); void el.offsetWidth; el.classList.add("bumped");
      }
    });
  }
  let pending = null;
  const soon = () => { clearTimeout(pending); pending = setTimeout(refreshCounts, 400); };
  function connect(delay) {
    let socket;
    try { socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + desk.dataset.socket); } catch (e) { return; }
    socket.onmessage = (e) => { const msg = JSON.parse(e.data); if (msg.type === "event") soon(); };
    socket.onclose = (e) => { if (e.code !== 4401 && e.code !== 4403) setTimeout(() => { soon(); connect(Math.min(delay * 2, 60000)); }, delay); };
  }
  connect(2000);
  setInterval(refreshCounts, 60000); // a safety net when the socket is down

  // ------------------------------------------------------------------ photos open large
  const box = document.getElementById("tk-lightbox");
  document.addEventListener("click", (e) => {
    const a = e.target.closest("a.tk-photo");
    if (!a || !box || !box.showModal) return;
    e.preventDefault();
    box.querySelector("img").src = a.href;
    box.showModal();
  });
  if (box) box.addEventListener("click", (e) => { if (e.target === box) box.close(); });

  // ------------------------------------------------------------------ bulk selection
  const picks = () => Array.from(document.querySelectorAll(".tk-pick"));
  const counter = document.getElementById("tk-picked"), bar = document.getElementById("tk-bulkbar");
  function updatePicked() {
    const n = picks().filter((c) => c.checked).length;
    if (counter) counter.textContent = n;
    if (bar) bar.toggleAttribute("data-empty", n === 0);
  }
  document.addEventListener("change", (e) => { if (e.target.classList && e.target.classList.contains("tk-pick")) updatePicked(); });
  const all = document.getElementById("tk-pick-all");
  if (all) all.addEventListener("change", () => { picks().forEach((c) => { c.checked = all.checked; }); updatePicked(); });
  updatePicked();

  // ------------------------------------------------------------------ keyboard
  const rows = () => Array.from(document.querySelectorAll(".tk-queue .tk-qrow"));
  let cursor = rows().findIndex((r) => r.classList.contains("current"));
  function move(step) {
    const list = rows();
    if (!list.length) return;
    cursor = Math.max(0, Math.min(list.length - 1, (cursor < 0 ? (step > 0 ? -1 : list.length) : cursor) + step));
    list.forEach((r, i) => r.classList.toggle("cursor", i === cursor));
    list[cursor].scrollIntoView({ block: "nearest" });
  }
  const tabs = Array.from(document.querySelectorAll(".tk-console-tabs a"));
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
    if (e.key === "Escape") {
      if (typing) { document.activeElement.blur(); return; }
      const back = document.querySelector(".tk-back");
      if (back && !(box && box.open)) back.click();
      return;
    }
    if (typing) return;
    const click = (sel) => { const el = document.querySelector(sel); if (el) { e.preventDefault(); el.click(); } };
    const focusOn = (sel) => { const el = document.querySelector(sel); if (el) { e.preventDefault(); el.focus(); } };
    switch (e.key) {
      case "j": case "ArrowDown": e.preventDefault(); move(1); break;
      case "k": case "ArrowUp": e.preventDefault(); move(-1); break;
      case "Enter": { const r = rows()[cursor]; if (r) { e.preventDefault(); r.querySelector("a.tk-row").click(); } break; }
      case "x": { const r = rows()[cursor]; const c = r && r.querySelector(".tk-pick"); if (c) { e.preventDefault(); c.checked = !c.checked; updatePicked(); } break; }
      case "/": focusOn("#tk-search"); break;
      case "o": click("#open-button"); break;
      case "d": focusOn("#id_lead"); break;
      case "m": focusOn("#id_into"); break;
      default:
        if (/^[1-6]$/.test(e.key) && tabs[Number(e.key) - 1]) { e.preventDefault(); tabs[Number(e.key) - 1].click(); }
    }
  });
})();
