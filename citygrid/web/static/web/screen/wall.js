/* The big screen: scales the 1920×1080 stage to the window, polls /screen/data.json every
   config.pollSeconds and redraws the figures, the ECharts charts, the event ticker and the
   aggregated map of open cases. */
(function () {
  "use strict";

  var CM = window.CitygridCaseMap;
  var config = JSON.parse(document.getElementById("screen-config").textContent);
  var labels = JSON.parse(document.getElementById("screen-labels").textContent);
  var stage = document.getElementById("wall");
  var statusEl = document.getElementById("wall-status");
  var W = 1920, H = 1080;

  function fit() {
    var scale = Math.min(window.innerWidth / W, window.innerHeight / H);
    var left = (window.innerWidth - W * scale) / 2, top = (window.innerHeight - H * scale) / 2;
    stage.style.transform = "translate(" + left + "px," + top + "px) scale(" + scale + ")";
  }
  fit();

  // ---- clock ----
  var clockEl = document.getElementById("wall-clock");
  function tick() {
    var now = new Date();
    clockEl.textContent = now.toLocaleDateString() + " " + now.toLocaleTimeString();
    clockEl.dateTime = now.toISOString();
  }
  tick();
  window.setInterval(tick, 1000);

  // ---- charts ----
  var axis = { axisLine: { lineStyle: { color: "#3d5a8c" } }, axisLabel: { color: "#9fbef0", fontSize: 14 },
               splitLine: { lineStyle: { color: "rgba(90,160,255,0.12)" } } };
  var districtChart = echarts.init(document.getElementById("chart-district"), null, { renderer: "canvas" });
  var classChart = echarts.init(document.getElementById("chart-class"), null, { renderer: "canvas" });

  function drawDistricts(rows) {
    districtChart.setOption({
      backgroundColor: "transparent",
      textStyle: { color: "#dbe7ff" },
      grid: { left: 50, right: 16, top: 36, bottom: 36 },
      legend: { top: 0, textStyle: { color: "#9fbef0", fontSize: 14 } },
      tooltip: { trigger: "axis" },
      xAxis: Object.assign({ type: "category", data: rows.map(function (r) { return r.name; }) }, axis),
      yAxis: Object.assign({ type: "value", minInterval: 1 }, axis),
      series: [
        { name: labels.total, type: "bar", barMaxWidth: 28, data: rows.map(function (r) { return r.total; }),
          itemStyle: { color: "#4fd1ff" } },
        { name: labels.open, type: "bar", barMaxWidth: 28, data: rows.map(function (r) { return r.open; }),
          itemStyle: { color: "#f5b942" } }
      ]
    }, true);
  }

  function drawClasses(rows) {
    var top = rows.slice(0, 8);
    var rest = rows.slice(8).reduce(function (sum, r) { return sum + r.total; }, 0);
    var data = top.map(function (r) { return { name: r.name, value: r.total }; });
    if (rest) data.push({ name: "…", value: rest });
    classChart.setOption({
      backgroundColor: "transparent",
      tooltip: { trigger: "item", formatter: "{b}: {c} ({d}%)" },
      legend: { type: "scroll", orient: "vertical", right: 0, top: "middle", textStyle: { color: "#9fbef0", fontSize: 14 } },
      series: [{ type: "pie", radius: ["38%", "70%"], center: ["35%", "52%"], data: data,
                 label: { color: "#dbe7ff", fontSize: 13 }, itemStyle: { borderColor: "#071327", borderWidth: 2 } }]
    }, true);
  }

  // ---- figures ----
  function setText(id, text) { document.getElementById(id).textContent = text; }

  function drawFigures(d) {
    setText("kpi-reported", d.today.reported);
    setText("kpi-filed", d.today.filed);
    setText("kpi-dispatched", d.today.dispatched);
    setText("kpi-closed", d.today.closed);
    setText("kpi-overdue", d.overdue);
    setText("kpi-ontime", d.on_time_rate === null ? "—" : d.on_time_rate.toFixed(1) + "%");
    setText("map-open", d.open + " " + labels.cases);
  }

  // ---- event ticker: newest first; rotates one line every few seconds when it overflows ----
  var eventsEl = document.getElementById("wall-events");
  function drawEvents(events) {
    eventsEl.textContent = "";
    events.forEach(function (e) {
      var li = CM.el("li");
      li.dataset.operation = e.operation;
      var at = new Date(e.at);
      li.appendChild(CM.el("time", "ev-time", at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
      li.appendChild(CM.el("span", "ev-op", (labels.operations[e.operation] || e.operation) +
        (e.to_state ? " → " + (labels.states[e.to_state] || e.to_state) : "")));
      li.appendChild(CM.el("span", "ev-meta", e.number + " · " + (e.district || "")));
      eventsEl.appendChild(li);
    });
  }
  window.setInterval(function () {
    var box = eventsEl.parentNode;
    if (eventsEl.scrollHeight <= box.clientHeight || !eventsEl.firstChild) return;
    eventsEl.appendChild(eventsEl.firstChild);
  }, 3000);

  // ---- map of open cases (server-side clusters) ----
  var mapEl = document.getElementById("wall-map");
  var map = CM.baseMap(mapEl, config, { zoomControl: false, attributionControl: true });
  if (config.bounds) {
    CM.outlines(map, config, "district", CM.bboxParam(L.latLngBounds(config.bounds).pad(0.1)),
      { color: "#4fd1ff", weight: 1.5, fill: true, fillColor: "#1a4b8c", fillOpacity: 0.15, opacity: 0.8 });
  }
  var layer = new CM.CaseLayer(map, {
    url: config.casesUrl,
    query: function () { return "open=1"; },
    colourBy: function () { return "level"; },
    pollSeconds: config.pollSeconds
  });

  // ---- polling ----
  function load() {
    stage.dataset.status = stage.dataset.status === "init" ? "loading" : stage.dataset.status;
    return CM.getJSON(config.dataUrl).then(function (d) {
      drawFigures(d);
      drawDistricts(d.by_district);
      drawClasses(d.by_class);
      drawEvents(d.events);
      statusEl.textContent = "";
      stage.dataset.status = "ready";
    }).catch(function () {
      statusEl.textContent = labels.loadFailed;
      if (stage.dataset.status !== "ready") stage.dataset.status = "error";
    });
  }

  window.addEventListener("resize", function () {
    fit();
    districtChart.resize();
    classChart.resize();
    map.invalidateSize();
  });
  load();
  layer.refresh();
  window.setInterval(function () { if (!document.hidden) load(); }, config.pollSeconds * 1000);
})();
