// The 12345 agent console: locate the address, suggest knowledge articles, look for duplicates and the
// caller's history while the agent types; settle the contact in one click.
(function () {
  "use strict";
  const form = document.getElementById("hl-form");
  if (!form) return;
  const T = JSON.parse(document.getElementById("hl-i18n").textContent);
  const $ = (id) => document.getElementById(id);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let location = null; // {lon, lat}
  let idempotencyKey = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    });
    children.flat().forEach((c) => node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c))));
    return node;
  }
  function debounce(fn, ms) { let t; return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); }; }
  async function getJSON(url, params) {
    const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
    const r = await fetch(url + "?" + q.toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || T.failed);
    return r.json();
  }
  function errorText(body) {
    if (!body || typeof body !== "object") return T.failed;
    if (body.detail) return body.detail;
    return Object.values(body).flat().join(" ");
  }

  // ------------------------------------------------------------------ map and location
  const map = L.map("hl-map", { zoomControl: true }).setView([32.0, 120.3], 11);
  const tiles = form.dataset.tiles;
  if (tiles) L.tileLayer(tiles, { maxZoom: 18, subdomains: "1234" }).addTo(map);
  // grid outlines give the map meaning even when no tile server is reachable
  const outlines = L.geoJSON(null, { style: { color: "#4b6584", weight: 1, fillOpacity: 0.03 }, interactive: false }).addTo(map);
  let outlinesKey = "";
  function drawGrids() {
    if (map.getZoom() < 13 || !form.dataset.apiGrids) { outlines.clearLayers(); outlinesKey = ""; return; }
    const b = map.getBounds();
    const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(4)).join(",");
    if (bbox === outlinesKey) return;
    outlinesKey = bbox;
    getJSON(form.dataset.apiGrids, { bbox }).then((fc) => { outlines.clearLayers(); outlines.addData(fc); }).catch(() => {});
  }
  map.on("moveend", drawGrids);
  let pin = null;
  function setLocation(lon, lat, label) {
    location = { lon, lat };
    if (!pin) {
      pin = L.marker([lat, lon], { draggable: true }).addTo(map);
      pin.on("dragend", () => { const p = pin.getLatLng(); setLocation(p.lng, p.lat); });
    } else pin.setLatLng([lat, lon]);
    map.setView([lat, lon], Math.max(map.getZoom(), 15));
    getJSON(form.dataset.apiLocate, { lon, lat }).then(showPlacement).catch((e) => { $("hl-placement").textContent = e.message; });
    refresh();
  }
  function showPlacement(p) {
    const parts = [];
    if (p.community) parts.push(T.community + "：" + p.community);
    parts.push(T.grid + "：" + (p.grid ? p.grid + "（" + p.grid_code + "）" : T.outside));
    $("hl-placement").textContent = parts.join(" · ") + (p.message ? " — " + p.message : "");
  }
  map.on("click", (e) => setLocation(e.latlng.lng, e.latlng.lat));

  async function geocode() {
    const q = $("hl-address").value.trim();
    const list = $("hl-places");
    list.replaceChildren();
    if (!q) return;
    try {
      const data = await getJSON(form.dataset.apiGeocode, { q });
      if (!data.results.length) { list.append(el("li", { class: "hl-empty" }, T.noPlace)); return; }
      data.results.forEach((m, i) => {
        list.append(el("li", {}, el("button", {
          type: "button", class: i === 0 ? "hl-place chosen" : "hl-place",
          onclick: (ev) => { list.querySelectorAll(".chosen").forEach((b) => b.classList.remove("chosen")); ev.currentTarget.classList.add("chosen"); setLocation(m.lon, m.lat); },
        }, m.label, el("small", {}, " " + (m.community || "") + (m.grid ? " · " + m.grid : "") + " · " + Math.round(m.score)))));
      });
      setLocation(data.results[0].lon, data.results[0].lat);
    } catch (e) { list.append(el("li", { class: "hl-error" }, e.message)); }
  }
  $("hl-geocode").addEventListener("click", geocode);
  $("hl-address").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); geocode(); } });

  // ------------------------------------------------------------------ suggestions, duplicates, history
  async function suggestArticles() {
    const q = $("hl-content").value.trim();
    const list = $("hl-kb");
    if (q.length < 2) return;
    const data = await getJSON(form.dataset.apiKb, { q, category: $("hl-category").value }).catch(() => ({ results: [] }));
    list.replaceChildren(...(data.results.length ? data.results.map((a) => el("li", { class: "hl-item" },
      el("div", {}, el("strong", {}, a.title), el("small", { class: "hl-muted" }, " " + [a.category, a.department].filter(Boolean).join(" · "))),
      el("p", { class: "hl-body" }, a.body),
      el("button", { type: "button", class: "hl-use", "data-article": a.id, onclick: () => settle("direct", { article: a.id }) }, T.use),
    )) : [el("li", { class: "hl-empty" }, T.nothing)]));
  }
  async function findDuplicates() {
    const list = $("hl-dups");
    const params = { content: $("hl-content").value.trim(), category: $("hl-category").value, phone: $("hl-phone").value.trim() };
    if (location) Object.assign(params, location);
    if (!(params.category && location) && !params.phone) return;
    const data = await getJSON(form.dataset.apiDup, params).catch(() => ({ results: [] }));
    list.replaceChildren(...(data.results.length ? data.results.map((t) => el("li", { class: "hl-item hl-dup", "data-ticket": t.id },
      el("div", {}, el("strong", {}, t.title), " ", el("span", { class: "hl-score" }, Math.round(t.score))),
      el("small", { class: "hl-muted" }, [t.number, t.category, t.state_display, t.distance_m != null ? t.distance_m + " " + T.m : "",
        t.callers + " " + T.callers].filter(Boolean).join(" · ")),
      el("small", {}, t.reasons.map((r) => ({ same_caller: T.sameCaller, similar_text: T.similar, nearby: T.nearby }[r] || r)).join("、")),
      el("button", { type: "button", class: "hl-link", onclick: () => settle("linked", { link_to: t.id }) }, T.link),
    )) : [el("li", { class: "hl-empty" }, T.nothing)]));
  }
  async function history() {
    const phone = $("hl-phone").value.trim();
    const list = $("hl-history");
    if (phone.length < 5) return;
    const data = await getJSON(form.dataset.apiHistory, { phone }).catch(() => null);
    if (!data) return;
    $("hl-repeat").hidden = !data.repeat;
    list.replaceChildren(el("li", { class: "hl-muted" }, `${data.total} ${T.total}，${data.last_30_days} ${T.recent}`),
      ...data.contacts.map((c) => el("li", { class: "hl-item" },
        el("small", {}, c.created_at.slice(0, 16).replace("T", " ") + " · " + c.type_display + " · " + c.outcome_display + (c.ticket ? " · " + c.ticket.number + " " + c.ticket.state_display : "")),
        el("div", {}, c.content.slice(0, 80)))));
  }
  async function routing() {
    const category = $("hl-category").value;
    if (!category || !location) { $("hl-routing").textContent = ""; return; }
    const data = await getJSON(form.dataset.apiRouting, { category, ...location }).catch(() => null);
    if (data) $("hl-routing").textContent = `${T.suggested}：${data.center} → ${data.departments.join("、") || "—"}`;
  }
  const refresh = debounce(() => { findDuplicates(); routing(); }, 250);
  $("hl-content").addEventListener("input", debounce(() => { suggestArticles(); findDuplicates(); }, 300));
  $("hl-category").addEventListener("change", () => { suggestArticles(); refresh(); });
  $("hl-phone").addEventListener("input", debounce(() => { history(); findDuplicates(); }, 400));

  // ------------------------------------------------------------------ settle
  async function settle(outcome, extra) {
    const body = {
      channel: $("hl-channel").value, type: $("hl-type").value, content: $("hl-content").value, outcome,
      caller_name: $("hl-name").value, caller_phone: $("hl-phone").value, address: $("hl-address").value,
      urgent: $("hl-urgent").checked, category: $("hl-category").value, title: $("hl-title").value,
      answer: $("hl-answer").value, ...(location || {}), ...extra,
    };
    const result = $("hl-result");
    result.className = "hl-result";
    const r = await fetch(form.dataset.apiContacts, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf, "Idempotency-Key": idempotencyKey },
      body: JSON.stringify(body),
    }).catch(() => null);
    const data = r ? await r.json().catch(() => null) : null;
    if (!r || !r.ok) { result.classList.add("error"); result.textContent = errorText(data); return; }
    result.classList.add("ok");
    const t = data.ticket;
    result.replaceChildren(outcome === "direct" ? T.direct + (data.article ? "：" + data.article.title : "")
      : (outcome === "linked" ? T.linked : T.created) + " " + t.number + "（" + t.state_display + "）",
      el("button", { type: "button", id: "hl-next", class: "hl-next primary", onclick: nextCall }, T.next));
    idempotencyKey = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    // the contact is settled: the form waits for the next call (Enter on the focused button, or Esc anywhere).
    // The caller's history is not fetched again here: her own contact would mark her a repeat caller.
    settled = true;
    $("hl-next").focus();
  }

  // ------------------------------------------------------------------ the next call
  let settled = false;
  const placeholders = {};
  ["hl-dups", "hl-kb", "hl-history"].forEach((id) => { placeholders[id] = $(id).innerHTML; });
  const placementText = $("hl-placement").textContent;
  function nextCall() {
    form.reset();
    Object.entries(placeholders).forEach(([id, html]) => { $(id).innerHTML = html; });
    $("hl-places").replaceChildren();
    $("hl-placement").textContent = placementText;
    $("hl-routing").textContent = "";
    $("hl-repeat").hidden = true;
    if (pin) { map.removeLayer(pin); pin = null; }
    location = null;
    settled = false;
    const result = $("hl-result");
    result.className = "hl-result";
    result.replaceChildren();
    $("hl-phone").focus();
  }
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && settled) { e.preventDefault(); nextCall(); } });
  $("hl-new").addEventListener("click", () => settle("new_ticket", {}));
  $("hl-direct").addEventListener("click", () => settle("direct", {}));
})();
