/* The live case map (/live/): clusters or heat cells of the user's cases in view, filtered by
   the panel, refreshed on every move and every config.pollSeconds (polling: see docs/screens.md). */
(function () {
  "use strict";

  var CM = window.CitygridCaseMap;
  var config = JSON.parse(document.getElementById("live-config").textContent);
  var labels = JSON.parse(document.getElementById("live-labels").textContent);
  var mapEl = document.getElementById("live-map");
  var form = document.getElementById("live-filters");
  var countEl = document.getElementById("live-count");
  var updatedEl = document.getElementById("live-updated");
  var messageEl = document.getElementById("live-message");

  var map = CM.baseMap(mapEl, config);
  if (config.bounds) {
    var b = L.latLngBounds(config.bounds);
    CM.outlines(map, config, "district", CM.bboxParam(b.pad(0.1)),
      { color: "#1d4f91", weight: 2, fill: false, opacity: 0.8 });
  }

  function value(name) {
    var checked = form.querySelector("[name=" + name + "]:checked");
    if (checked) return checked.value;
    var field = form.elements[name];
    return field && field.type !== "radio" && field.type !== "checkbox" ? field.value : "";
  }

  function query() {
    var parts = [];
    ["state", "level", "district", "major", "source", "period", "open"].forEach(function (name) {
      var v = value(name);
      if (v) parts.push(name + "=" + encodeURIComponent(v));
    });
    return parts.join("&");
  }

  var layer = new CM.CaseLayer(map, {
    url: config.casesUrl,
    query: query,
    colourBy: function () { return value("colour") || "level"; },
    heat: function () { return value("mode") === "heat"; },
    labels: labels,
    caseUrl: config.caseUrl,
    pollSeconds: config.pollSeconds,
    onData: function (body) {
      mapEl.dataset.mode = body.mode;
      countEl.textContent = String(body.total);
      updatedEl.textContent = labels.updated + " " + new Date().toLocaleTimeString();
      messageEl.hidden = !body.truncated;
      messageEl.textContent = body.truncated ? labels.truncated : "";
    },
    onError: function () {
      messageEl.hidden = false;
      messageEl.textContent = labels.loadFailed;
    }
  });

  // The state legend is built from the labels, so it always matches the colours.
  var stateLegend = document.getElementById("legend-state");
  Object.keys(labels.states).forEach(function (state) {
    var li = CM.el("li");
    var dot = CM.el("span", "dot");
    dot.style.background = CM.STATE_COLORS[state] || "#1d4f91";
    dot.setAttribute("aria-hidden", "true");
    li.appendChild(dot);
    li.appendChild(document.createTextNode(labels.states[state]));
    stateLegend.appendChild(li);
  });

  function syncLegend() {
    var heat = value("mode") === "heat";
    var byState = value("colour") === "state";
    document.getElementById("colour-by").disabled = heat;
    document.getElementById("legend-level").hidden = heat || byState;
    stateLegend.hidden = heat || !byState;
    document.getElementById("legend-heat").hidden = !heat;
    document.getElementById("legend-note").hidden = heat;
  }

  form.addEventListener("change", function () { syncLegend(); layer.refresh(); });
  form.addEventListener("submit", function (e) { e.preventDefault(); layer.refresh(); });
  syncLegend();
  layer.refresh();
  window.citygridLive = { map: map, layer: layer };
})();
