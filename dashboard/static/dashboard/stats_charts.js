/* The leaders' statistics as pictures (ECharts from our own static files). Every bar, point, slice and region
   opens the tickets behind it, as the numbers of the tables do. SVG rendering keeps the printed PDF sharp. */
(function () {
  "use strict";
  var node = document.getElementById("stats-charts");
  if (!node || typeof echarts === "undefined") return;
  var data = JSON.parse(node.textContent);
  var L = data.labels;
  var BLUE = "#1f6fb2", TEAL = "#2bb39b", GREY = "#8a96a8";
  var RATE_COLORS = ["#1f6fb2", "#2bb39b", "#f0a020", "#d9534f", "#8e6bd8", "#5aa0d8"];
  var WORSE_WHEN_HIGHER = { rework_rate: true, return_rate: true, extension_rate: true };
  var charts = {};

  function url(base, extra) {
    var q = new URLSearchParams(data.query);
    Object.keys(extra).forEach(function (k) { q.set(k, extra[k]); });
    return base + "?" + q.toString();
  }
  function drill(extra) { window.location.href = url(data.drill, extra); }

  function make(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    var chart = echarts.init(el, null, { renderer: "svg" });
    charts[id] = chart;
    // a viewBox lets the printed page scale the drawing into its narrower cards instead of cutting it off
    chart.on("finished", function () {
      var svg = el.querySelector("svg");
      if (svg) svg.setAttribute("viewBox", "0 0 " + chart.getWidth() + " " + chart.getHeight());
    });
    return chart;
  }
  var axisText = { color: "#4a5568", fontSize: 12 };

  // -------------------------------------------------------------- received and closed over the period
  var trend = make("chart-trend");
  if (trend) {
    trend.setOption({
      animation: false,
      grid: { left: 48, right: 16, top: 34, bottom: 28 },
      legend: { top: 0, data: [L.received, L.closed] },
      tooltip: { trigger: "axis", formatter: function (items) {
        var i = items[0].dataIndex, r = data.trend.ranges[i];
        var head = data.trend.unit === "week" ? L.week + " " + r[0] + " — " + r[1] : r[0];
        return head + "<br>" + items.map(function (it) { return it.marker + it.seriesName + " " + it.value; }).join("<br>");
      } },
      xAxis: { type: "category", data: data.trend.labels, axisLabel: axisText },
      yAxis: { type: "value", axisLabel: axisText, splitLine: { lineStyle: { color: "#e3e8f0" } } },
      series: [
        { name: L.received, type: "bar", data: data.trend.received, itemStyle: { color: BLUE }, barMaxWidth: 14, cursor: "pointer" },
        { name: L.closed, type: "line", data: data.trend.closed, symbol: "circle", symbolSize: 5, lineStyle: { color: TEAL, width: 2 },
          itemStyle: { color: TEAL } }
      ]
    });
    trend.on("click", function (p) {
      var r = data.trend.ranges[p.dataIndex];
      drill({ start: r[0], end: r[1], metric: p.seriesIndex === 0 ? "received" : "closed" });
    });
  }

  // -------------------------------------------------------------- satisfaction mix
  var mix = make("chart-satisfaction");
  if (mix) {
    var total = data.satisfaction.reduce(function (s, x) { return s + x.value; }, 0);
    mix.setOption({
      animation: false,
      color: [TEAL, "#f0c040", "#d9534f"],
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { bottom: 0 },
      title: total ? { text: String(total), subtext: L.tickets, left: "center", top: "38%", textStyle: { fontSize: 22, color: "#1b2a41" } }
        : { text: L.no_data, left: "center", top: "40%", textStyle: { fontSize: 14, color: GREY } },
      series: [{ type: "pie", radius: ["45%", "70%"], center: ["50%", "46%"], avoidLabelOverlap: true, cursor: "pointer",
        label: { formatter: "{b}\n{d}%" }, data: data.satisfaction.map(function (x) { return { name: x.name, value: x.value, key: x.key }; }) }]
    });
    mix.on("click", function (p) { drill({ metric: "rated", satisfaction: p.data.key }); });
  }

  // -------------------------------------------------------------- departments by composite score
  var bars = make("chart-departments");
  if (bars) {
    var rows = data.departments.slice().reverse();
    bars.setOption({
      animation: false,
      grid: { left: 8, right: 56, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "item", formatter: function (p) { var r = rows[p.dataIndex]; return r.name + "<br>" + L.score + " " + r.score + "<br>" + L.volume + " " + r.volume; } },
      xAxis: { type: "value", min: function (v) { return Math.max(0, Math.floor(v.min / 10) * 10 - 10); }, max: 100, axisLabel: axisText,
        splitLine: { lineStyle: { color: "#e3e8f0" } } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.name; }), axisLabel: { color: "#1b2a41", fontSize: 12 } },
      series: [{ type: "bar", data: rows.map(function (r) { return r.score; }), barMaxWidth: 18, cursor: "pointer",
        label: { show: true, position: "right", color: "#1b2a41" },
        itemStyle: { color: function (p) { return p.dataIndex >= rows.length - 3 ? BLUE : p.dataIndex < 3 && rows.length > 6 ? "#e08a3c" : "#7fb0da"; } } }]
    });
    bars.on("click", function (p) { drill({ metric: "volume", in_department: rows[p.dataIndex].id }); });
  }

  // -------------------------------------------------------------- map of the regions
  var map = make("chart-map");
  var select = document.getElementById("map-figure");
  var METRIC_OF = { received: "received", score: "received", closure_rate: "closed", on_time_rate: "on_time",
    satisfaction_rate: "satisfied", rework_rate: "reworked", return_rate: "returned", extension_rate: "extended", direct_rate: "direct" };
  function drawMap() {
    var R = data.regions, key = select ? select.value : "received";
    var values = R.figures[key];
    var present = values.filter(function (v) { return v !== null; });
    var lo = present.length ? Math.min.apply(null, present) : 0, hi = present.length ? Math.max.apply(null, present) : 1;
    var colors = ["#e6f0fa", "#9cc3e6", "#3f88c5", "#12467a"];
    if (WORSE_WHEN_HIGHER[key]) colors = ["#f3f7ee", "#f6d58a", "#ea8a4a", "#b6322e"];
    map.setOption({
      animation: false,
      tooltip: { trigger: "item", formatter: function (p) {
        var i = R.rows.findIndex(function (r) { return r.code === p.name; });
        if (i < 0) return "";
        var v = values[i];
        return R.rows[i].name + "<br>" + R.names[key] + " " + (v === null ? "—" : v + (key.slice(-5) === "_rate" ? "%" : ""));
      } },
      visualMap: { type: "continuous", min: lo, max: hi === lo ? lo + 1 : hi, left: 8, bottom: 8, calculable: false,
        inRange: { color: colors }, text: [String(hi), String(lo)], textStyle: { color: "#4a5568" } },
      series: [{ type: "map", map: "stats-regions", nameProperty: "code", roam: false, cursor: "pointer",
        label: { show: true, color: "#1b2a41", fontSize: 11, textBorderColor: "#fff", textBorderWidth: 2, formatter: function (p) {
          var i = R.rows.findIndex(function (r) { return r.code === p.name; });
          return i < 0 ? "" : R.rows[i].name;
        } },
        itemStyle: { borderColor: "#ffffff", borderWidth: 1.2 },
        emphasis: { label: { color: "#000" }, itemStyle: { areaColor: "#ffd666" } },
        data: R.rows.map(function (r, i) { return { name: r.code, value: values[i] === null ? NaN : values[i] }; }) }]
    }, true);
  }
  if (map) {
    var geo = data.regions.geojson;
    geo.features.forEach(function (f) { f.properties.code = f.id; });
    echarts.registerMap("stats-regions", geo);
    drawMap();
    if (select) select.addEventListener("change", drawMap);
    map.on("click", function (p) {
      if (data.regions.drill === "region") {
        window.location.href = url(data.page, { region: p.name });
      } else {
        drill({ metric: METRIC_OF[select ? select.value : "received"], in_region: p.name });
      }
    });
  }

  // -------------------------------------------------------------- each indicator per month
  var rates = make("chart-rates");
  if (rates) {
    var M = data.monthly, keys = Object.keys(M.rates);
    rates.setOption({
      animation: false,
      color: RATE_COLORS,
      grid: { left: 48, right: 48, top: 36, bottom: 28 },
      legend: { top: 0, data: keys.map(function (k) { return M.names[k]; }) },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null || v === undefined ? "—" : v + "%"; } },
      xAxis: { type: "category", data: M.labels, axisLabel: axisText },
      // the good rates live near the top, the bad ones near the bottom: each gets an axis of its own
      yAxis: [
        { type: "value", max: 100, scale: true, axisLabel: { color: "#4a5568", formatter: "{value}%" }, splitLine: { lineStyle: { color: "#e3e8f0" } } },
        { type: "value", min: 0, axisLabel: { color: "#4a5568", formatter: "{value}%" }, splitLine: { show: false } }
      ],
      series: keys.map(function (k) {
        return { name: M.names[k], type: "line", data: M.rates[k], key: k, yAxisIndex: WORSE_WHEN_HIGHER[k] ? 1 : 0,
          lineStyle: WORSE_WHEN_HIGHER[k] ? { type: "dashed" } : {}, symbol: "circle", symbolSize: 6, connectNulls: true, cursor: "pointer" };
      })
    });
    rates.on("click", function (p) {
      var r = M.ranges[p.dataIndex];
      drill({ start: r[0], end: r[1], metric: M.metrics[keys[p.seriesIndex]] });
    });
  }

  function resize() { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); }
  // printing scales the drawings through their viewBox; resizing there would measure the print layout's auto heights
  window.addEventListener("resize", function () { if (!window.matchMedia("print").matches) resize(); });
  var button = document.getElementById("print-stats");
  if (button) button.addEventListener("click", function () { window.print(); });
  document.documentElement.dataset.chartsReady = "1";
})();
