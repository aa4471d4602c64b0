/* The command center wall: one snapshot over HTTP, then websocket events applied in sequence order.
 *
 * reduce() and figures() are the JavaScript twins of dashboard/wall.py apply_event() and
 * figures(); the Python pair is what the protocol tests check against a fresh snapshot.
 * Any gap in the sequence numbers, or a reconnect, reloads the snapshot. */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("wall-config").textContent);
  var L_ = cfg.labels;
  var LON = 0, LAT = 1, LIGHT = 2, STATE = 3, URGENT = 4, CATEGORY = 5, VERSION = 6, NUMBER = 7, GRID = 8;
  var OPEN = { "new": 1, "open": 1, "dispatched": 1, "handling": 1, "verifying": 1, "suspended": 1 };
  var FEED_SIZE = 20;
  var SATISFIED = { "satisfied": 1, "basically": 1 };
  var COLORS = { green: "#2fd27a", yellow: "#ffc53d", red: "#ff4d4f" };

  // -------------------------------------------------------------------------------------------- time helpers
  var dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" });
  var hourFormat = new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", hour: "2-digit", hourCycle: "h23" });
  var clockFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  var dateFormat = new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", month: "long", day: "numeric", weekday: "short" });
  function localDay(iso) { return dayFormat.format(new Date(iso)); }
  function localHour(iso) { return parseInt(hourFormat.format(new Date(iso)), 10) % 24; }
  function hhmm(iso) { return clockFormat.format(new Date(iso)).slice(0, 5); }

  // -------------------------------------------------------------------------------------------- the reducer
  function reduce(state, event) {
    var topic = event.topic, data = event.data || {};
    if (topic.indexOf("ticket.") === 0) reduceTicket(state, data);
    else if (topic.indexOf("alert.") === 0) reduceAlert(state, topic, data);
    else if (topic === "hotline.contact") {
      if (localDay(data.at) === state.day) state.hotline_hours[localHour(data.at)] += 1;
    }
    else if (topic === "datahub.batch" && localDay(data.at) === state.day) state.exchanged_today += (data.accepted || 0);
  }

  function reduceTicket(state, data) {
    var key = String(data.id), action = data.action || "", at = data.at;
    var known = state.tickets[key];
    if (!known || data.version > known[VERSION]) {
      if (OPEN[data.state]) {
        state.tickets[key] = [data.lon, data.lat, data.light, data.state, data.urgent, data.category_code, data.version, data.number, data.grid];
      } else {
        delete state.tickets[key];
      }
    }
    if (!at || localDay(at) !== state.day) return;
    if (action === "created") {
      state.received_today += 1;
    } else if (action === "closed" || action === "self_resolved") {
      state.closed_today[key] = !data.due_at || new Date(at) <= new Date(data.due_at);
    } else if (action === "reopened") {
      delete state.closed_today[key];
    } else if (action === "rated") {
      var satisfied = SATISFIED[(data.detail || {}).satisfaction] ? 1 : 0;
      state.ratings_today = [state.ratings_today[0] + satisfied, state.ratings_today[1] + 1];
    }
    if (action === "created" || action === "escalated") {
      state.feed = [{ kind: "ticket." + action, ticket: data.id, number: data.number, title: data.title, at: at }]
        .concat(state.feed).slice(0, FEED_SIZE);
    }
  }

  function reduceAlert(state, topic, data) {
    var key = String(data.id);
    if (topic === "alert.closed" || cfg.alert_open_states.indexOf(data.state) < 0) { delete state.alerts[key]; return; }
    var lon = data.lon, lat = data.lat;
    if (lon == null && Array.isArray(data.location)) { lon = data.location[0]; lat = data.location[1]; }
    var row = [lon, lat, data.level || "", data.title || "", data.created_at || data.at];
    state.alerts[key] = row;
    if (topic === "alert.raised") {
      state.feed = [{ kind: topic, alert: data.id, level: row[2], title: row[3], at: row[4] }].concat(state.feed).slice(0, FEED_SIZE);
    }
  }

  function figures(state) {
    var rows = Object.keys(state.tickets).map(function (k) { return state.tickets[k]; });
    var closed = Object.keys(state.closed_today).map(function (k) { return state.closed_today[k]; });
    var satisfied = state.rating_base[0] + state.ratings_today[0];
    var rated = state.rating_base[1] + state.ratings_today[1];
    var mix = {}, grids = {};
    rows.forEach(function (r) {
      var major = r[CATEGORY].slice(0, 2);
      mix[major] = (mix[major] || 0) + 1;
      if (r[GRID] != null) grids[r[GRID]] = (grids[r[GRID]] || 0) + 1;
    });
    var round1 = function (x) { return Math.round(x * 10) / 10; };
    return {
      received_today: state.received_today,
      closed_today: closed.length,
      on_time_rate: closed.length ? round1(100 * closed.filter(Boolean).length / closed.length) : null,
      satisfaction: rated ? round1(100 * satisfied / rated) : null,
      overdue_now: rows.filter(function (r) { return r[LIGHT] === "red"; }).length,
      open_now: rows.length,
      active_alerts: Object.keys(state.alerts).length,
      exchanged_today: state.exchanged_today,
      category_mix: mix,
      grid_open: grids,
      hotline_hours: state.hotline_hours.slice()
    };
  }

  // -------------------------------------------------------------------------------------------- map
  var map = L.map("map", { zoomControl: false, attributionControl: false, preferCanvas: true, zoomSnap: 0.25 }).setView(cfg.center, 11);
  var tiles = L.tileLayer(cfg.tiles, { maxZoom: 18, subdomains: "1234" });
  tiles.addTo(map);
  var canvas = L.canvas({ padding: 0.3 });
  var gridLayer = L.geoJSON(null, { style: gridStyle, interactive: false }).addTo(map);
  var regionLayer = L.geoJSON(null, {
    interactive: false,
    style: function () { return { color: "#7fd3ff", weight: 2.5, opacity: 0.9, fill: false, dashArray: "8 5" }; },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.name, { permanent: true, direction: "center", className: "region-label" });
    }
  }).addTo(map);
  var ticketLayer = L.layerGroup().addTo(map);
  var alertLayer = L.layerGroup().addTo(map);
  var workerLayer = L.layerGroup().addTo(map);
  var gridOpen = {};
  var fitted = false;

  var gridOpenMax = 1;
  function gridStyle(feature) {
    // shaded relative to the busiest grid on this wall, so a city wall and a town wall both show where it piles up
    var n = gridOpen[feature.id] || 0, share = n / gridOpenMax;
    var fill = n === 0 ? "#0f3b66" : share < 0.34 ? "#1f6fb2" : share < 0.67 ? "#d99a1e" : "#d9363e";
    return { color: "#3fa9ff", weight: 0.8, opacity: 0.55, fillColor: fill, fillOpacity: n ? 0.3 + 0.35 * share : 0.18 };
  }

  var ticketMarkers = {};  // id → {marker, version}: a city wall has thousands; only changed ones are touched

  function drawTickets(state) {
    Object.keys(state.tickets).forEach(function (id) {
      var t = state.tickets[id], known = ticketMarkers[id];
      if (known && known.version === t[VERSION]) return;
      var style = { radius: px(t[URGENT] ? 8 : 6), fillColor: COLORS[t[LIGHT]] || COLORS.green };
      var label = t[NUMBER] + " · " + (cfg.states[t[STATE]] || t[STATE]);
      if (known) {
        known.marker.setLatLng([t[LAT], t[LON]]).setStyle(style).setTooltipContent(label);
        known.version = t[VERSION];
        return;
      }
      var marker = L.circleMarker([t[LAT], t[LON]], Object.assign({
        renderer: canvas, weight: 1, color: "#0b1a2e", fillOpacity: 0.95
      }, style)).bindTooltip(label).addTo(ticketLayer);
      if (cfg.ticket_url) marker.on("click", function () { window.location.href = ticketHref(id); });
      ticketMarkers[id] = { marker: marker, version: t[VERSION] };
    });
    Object.keys(ticketMarkers).forEach(function (id) {
      if (!(id in state.tickets)) { ticketLayer.removeLayer(ticketMarkers[id].marker); delete ticketMarkers[id]; }
    });
  }

  function forgetMarkers() { ticketLayer.clearLayers(); ticketMarkers = {}; }

  function drawAlerts(state) {
    alertLayer.clearLayers();
    Object.keys(state.alerts).forEach(function (id) {
      var a = state.alerts[id];
      if (a[0] == null) return;
      L.circleMarker([a[1], a[0]], { renderer: canvas, radius: px(12), weight: px(3), color: "#ff2d6f", fillOpacity: 0.15 })
        .bindTooltip((cfg.alert_levels[a[2]] || a[2]) + " · " + a[3]).addTo(alertLayer);
    });
  }

  function drawWorkers(positions) {
    workerLayer.clearLayers();
    positions.forEach(function (p) {
      L.circleMarker([p.lat, p.lon], { renderer: canvas, radius: px(5), weight: px(2), color: "#7df9ff", fillColor: "#0b1a2e", fillOpacity: 1 })
        .bindTooltip(p.name + " · " + p.grid).addTo(workerLayer);
    });
  }

  // -------------------------------------------------------------------------------------------- charts
  var text = "#cfe6ff", axis = "#5a7fa8", split = "rgba(90,127,168,.25)";
  function px(n) { return Math.round(n * window.innerWidth / 1920); }
  var charts = {};
  ["mix", "trend", "hours", "ranking"].forEach(function (name) {
    charts[name] = echarts.init(document.getElementById("chart-" + name), null, { renderer: "canvas" });
  });
  var lastRanking = [], lastPositions = [];
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
    map.invalidateSize();
    fitRegion();
    forgetMarkers();  // marker sizes follow the screen width
    drawRanking(lastRanking);
    drawWorkers(lastPositions);
    render();
  });

  function baseAxis() {
    return { axisLine: { lineStyle: { color: axis } }, axisLabel: { color: text, fontSize: px(14) }, splitLine: { lineStyle: { color: split } } };
  }

  function drawCharts(snapshot, figs) {
    var mix = Object.keys(figs.category_mix).sort().map(function (code) {
      return { name: (snapshot.categories[code] || code), value: figs.category_mix[code] };
    });
    charts.mix.setOption({
      animation: false,
      color: ["#3fa9ff", "#2fd27a", "#ffc53d", "#ff7a45", "#b37feb", "#36cfc9", "#ff4d4f", "#91caff", "#95de64", "#ffd666", "#ff9c6e", "#d3adf7", "#87e8de"],
      tooltip: { trigger: "item" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: "middle", textStyle: { color: text, fontSize: px(14) }, pageTextStyle: { color: text } },
      series: [{ type: "pie", radius: ["42%", "72%"], center: ["36%", "52%"], data: mix,
        label: { show: false }, itemStyle: { borderColor: "#07142a", borderWidth: 2 } }]
    });
    var days = snapshot.trend.days.concat([snapshot.state.day]).map(function (d) { return d.slice(5); });
    charts.trend.setOption({
      animation: false,
      grid: { left: px(44), right: px(12), top: px(30), bottom: px(26) },
      legend: { data: [L_.received, L_.closed], textStyle: { color: text, fontSize: px(14) }, top: 0, right: 0 },
      tooltip: { trigger: "axis" },
      xAxis: Object.assign(baseAxis(), { type: "category", data: days, axisLabel: { color: text, fontSize: px(12), interval: 6 } }),
      yAxis: Object.assign(baseAxis(), { type: "value", minInterval: 1 }),
      series: [
        { name: L_.received, type: "line", smooth: true, symbol: "none", lineStyle: { width: px(3), color: "#3fa9ff" },
          areaStyle: { color: "rgba(63,169,255,.18)" }, data: snapshot.trend.received.concat([figs.received_today]) },
        { name: L_.closed, type: "line", smooth: true, symbol: "none", lineStyle: { width: px(3), color: "#2fd27a" },
          data: snapshot.trend.closed.concat([figs.closed_today]) }
      ]
    });
    charts.hours.setOption({
      animation: false,
      grid: { left: px(40), right: px(8), top: px(14), bottom: px(26) },
      tooltip: { trigger: "axis" },
      xAxis: Object.assign(baseAxis(), { type: "category", data: Array.from({ length: 24 }, function (_, h) { return h + "时"; }),
        axisLabel: { color: text, fontSize: px(12), interval: 3 } }),
      yAxis: Object.assign(baseAxis(), { type: "value", minInterval: 1 }),
      series: [{ type: "bar", data: figs.hotline_hours, itemStyle: { color: "#36cfc9" }, barWidth: "60%" }]
    });
  }

  function drawRanking(ranking) {
    var rows = ranking.slice().reverse();
    charts.ranking.setOption({
      animation: false,
      grid: { left: px(8), right: px(48), top: px(6), bottom: px(6), containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", max: 100, show: false },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLine: { show: false }, axisTick: { show: false },
        axisLabel: { color: text, fontSize: px(15) } },
      series: [{ type: "bar", data: rows.map(function (r) { return r.score; }), barWidth: "55%", barMaxWidth: px(26),
        label: { show: true, position: "right", color: "#fff", fontSize: px(15), formatter: "{c}" },
        itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: "#1f6fb2" }, { offset: 1, color: "#3fe0ff" }]) } }]
    });
  }

  // -------------------------------------------------------------------------------------------- rendering
  function setKpi(name, value) {
    var el = document.getElementById("kpi-" + name);
    if (!el) return;
    el.textContent = value == null ? "–" : (typeof value === "number" ? value.toLocaleString("zh-CN") : value) + (el.dataset.unit && value != null ? el.dataset.unit : "");
  }

  function ticketHref(id) { return cfg.ticket_url.replace(/\/0\/$/, "/" + id + "/"); }

  function drawFeed(state) {
    var list = document.getElementById("feed");
    list.replaceChildren.apply(list, state.feed.map(function (item) {
      var li = document.createElement("li");
      li.className = "feed-item " + item.kind.replace(".", "-");
      var time = document.createElement("time"); time.textContent = hhmm(item.at);
      var tag = document.createElement("span"); tag.className = "tag"; tag.textContent = L_[item.kind] || item.kind;
      var what = document.createElement(cfg.ticket_url && item.ticket ? "a" : "span"); what.className = "what";
      if (what.tagName === "A") what.href = ticketHref(item.ticket);
      what.textContent = (item.number ? item.number.slice(-5) + " " : (item.level ? (cfg.alert_levels[item.level] || item.level) + " " : "")) + (item.title || "");
      li.append(time, tag, what);
      return li;
    }));
  }

  var drawPending = false;
  function render() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(function () {
      drawPending = false;
      if (!wall.snapshot) return;
      var state = wall.snapshot.state, figs = figures(state);
      ["received_today", "closed_today", "on_time_rate", "satisfaction", "overdue_now", "active_alerts", "exchanged_today", "open_now"]
        .forEach(function (k) { setKpi(k, figs[k]); });
      gridOpen = figs.grid_open;
      gridOpenMax = Math.max.apply(null, [1].concat(Object.keys(gridOpen).map(function (k) { return gridOpen[k]; })));
      gridLayer.setStyle(gridStyle);
      drawTickets(state);
      drawAlerts(state);
      drawCharts(wall.snapshot, figs);
      drawFeed(state);
      wall.rendered += 1;
      document.body.dataset.rendered = String(wall.rendered);
    });
  }

  // -------------------------------------------------------------------------------------------- protocol
  var wall = window.wallDebug = {
    snapshot: null, seq: 0, pending: {}, buffer: [], loading: false, socket: null, rendered: 0,
    snapshots: 0, applied: 0, reduce: reduce, figures: figures,
    cut: function () { if (wall.socket) wall.socket.close(4000, "cut for a test"); },
    grids: function () { return gridLayer.getLayers().length; },
    markers: function () { return ticketLayer.getLayers().length; },
    markerAt: function (id) {  // centres the map on a ticket's marker and says where it is on the page, for a test to click
      var known = ticketMarkers[id];
      if (!known) return null;
      map.setView(known.marker.getLatLng(), map.getZoom(), { animate: false });
      var rect = map.getContainer().getBoundingClientRect(), p = map.latLngToContainerPoint(known.marker.getLatLng());
      return { x: rect.left + p.x, y: rect.top + p.y };
    }
  };

  function setLink(state) {
    var el = document.getElementById("link");
    el.dataset.state = state;
    el.textContent = L_[state] || state;
  }

  function loadSnapshot() {
    wall.loading = true;
    setLink(wall.snapshot ? "resync" : "connecting");
    return fetch(cfg.snapshot, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("snapshot " + r.status); return r.json(); })
      .then(function (snap) {
        wall.snapshot = snap;
        wall.seq = snap.seq;
        wall.pending = {};
        snap.pending.forEach(function (id) { wall.pending[id] = true; });
        wall.snapshots += 1;
        wall.loading = false;
        if (!fitted) { fitRegion(); fitted = true; }
        var queued = wall.buffer; wall.buffer = [];
        queued.forEach(onEvent);
        if (wall.socket && wall.socket.readyState === WebSocket.OPEN) setLink("live");
        render();
      })
      .catch(function () { wall.loading = false; setTimeout(loadSnapshot, 3000); });
  }

  function onEvent(event) {
    if (wall.loading || !wall.snapshot) { wall.buffer.push(event); return; }
    if (event.seq <= wall.seq) return;  // already applied, or already in the snapshot
    if (event.seq > wall.seq + 1) { loadSnapshot(); return; }  // a gap: something was missed
    wall.seq = event.seq;
    if (wall.pending[event.id]) { delete wall.pending[event.id]; return; }  // its change is in the snapshot
    reduce(wall.snapshot.state, event);
    wall.applied += 1;
    render();
  }

  var retry = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + cfg.socket);
    wall.socket = socket;
    socket.onmessage = function (msg) {
      var event = JSON.parse(msg.data);
      if (event.type === "hello") { retry = 1000; loadSnapshot(); return; }  // (re)joined: start from a fresh snapshot
      if (event.type === "event") onEvent(event);
    };
    socket.onopen = function () { setLink("connecting"); };
    socket.onclose = function () {
      setLink("reconnecting");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }

  function fitRegion() {
    var region = wall.snapshot && wall.snapshot.region;
    if (!region || !region.bbox) return;
    var b = region.bbox;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { paddingTopLeft: [px(12), px(12)], paddingBottomRight: [px(12), px(64)] });
  }

  function loadGrids() {
    return fetch(cfg.grids, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geojson) {
      gridLayer.addData(geojson);
      gridLayer.bringToBack();
      if (geojson.regions) regionLayer.addData(geojson.regions);
    });
  }

  function loadExtras() {
    fetch(cfg.extras, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (x) {
      lastPositions = x.positions;
      lastRanking = x.ranking;
      drawWorkers(x.positions);
      drawRanking(x.ranking);
    }).catch(function () { /* the next poll tries again */ });
  }

  function tick() {
    var now = new Date();
    document.getElementById("clock").textContent = dateFormat.format(now) + " " + clockFormat.format(now);
    if (wall.snapshot && !wall.loading && dayFormat.format(now) !== wall.snapshot.state.day) loadSnapshot();  // midnight
  }

  tick();
  setInterval(tick, 1000);
  setInterval(loadExtras, 60000);
  loadExtras();
  loadGrids().then(connect, connect);
})();
