/* citygrid component layer: components in the viewport at zoom >= 17, coloured by state.
   Usage: CitygridComponents.attach(map [, {minZoom, url, classCode}]) with a Leaflet map.
   Needs a logged-in session (the features API requires login). Data text is set with
   textContent, never as HTML. */
(function () {
  "use strict";

  var STATE_COLOURS = {
    intact: "#2e7d32", damaged: "#f9a825", missing: "#c62828", abandoned: "#6d4c41"
  };
  var STATE_NAMES = { intact: "完好", damaged: "破损", missing: "丢失", abandoned: "废弃", removed: "移除" };
  var DEBOUNCE_MS = 250;

  function attach(map, options) {
    options = options || {};
    var minZoom = options.minZoom || 17;
    var url = options.url || "/api/v1/components/features";
    var layer = L.layerGroup().addTo(map);
    var controller = null;
    var timer = null;

    function popup(props) {
      var box = document.createElement("div");
      var rows = [["编码", props.code], ["类别", props.class + " " + props.class_name],
                  ["名称", props.name], ["状态", STATE_NAMES[props.state] || props.state],
                  ["权属单位", props.owner || "-"]];
      rows.forEach(function (r) {
        var line = document.createElement("div");
        var key = document.createElement("strong");
        key.textContent = r[0] + "：";
        line.appendChild(key);
        line.appendChild(document.createTextNode(r[1] || ""));
        box.appendChild(line);
      });
      return box;
    }

    function load() {
      if (controller) controller.abort();
      if (map.getZoom() < minZoom) { layer.clearLayers(); return; }
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return v.toFixed(6);
      }).join(",");
      var query = "?bbox=" + bbox + (options.classCode ? "&class=" + encodeURIComponent(options.classCode) : "");
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + query, { signal: controller ? controller.signal : undefined,
                           headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { features: [] }; })
        .then(function (data) {
          layer.clearLayers();
          data.features.forEach(function (f) {
            var c = f.geometry.coordinates;
            var colour = STATE_COLOURS[f.properties.state] || "#555";
            L.circleMarker([c[1], c[0]], { radius: 5, color: "#fff", weight: 1, fillColor: colour,
                                           fillOpacity: 0.9 })
              .bindPopup(popup(f.properties)).addTo(layer);
          });
        })
        .catch(function (e) { if (e.name !== "AbortError") layer.clearLayers(); });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(load, DEBOUNCE_MS);
    }

    map.on("moveend zoomend", schedule);
    schedule();
    return { layer: layer, reload: load };
  }

  window.CitygridComponents = { attach: attach, colours: STATE_COLOURS };
})();
