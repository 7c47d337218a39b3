/* citygrid map page: boundaries by zoom level, fetched by viewport; click for code and hierarchy.
   Config and UI strings come from json_script elements; all data text is inserted with
   textContent, never as HTML. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent);
  var labels = JSON.parse(document.getElementById("map-labels").textContent);
  var mapEl = document.getElementById("map");
  var DEBOUNCE_MS = 250;
  var PAD = 0.25; // fetch a bit beyond the view so small pans need no new request

  var STYLES = {
    district: { color: "#1d4f91", weight: 2.5, fillColor: "#1d4f91", fillOpacity: 0.06 },
    street: { color: "#2a7f8e", weight: 2, fillColor: "#2a7f8e", fillOpacity: 0.06 },
    community: { color: "#5b8c3a", weight: 1.5, fillColor: "#5b8c3a", fillOpacity: 0.07 },
    grid: { color: "#c07a2c", weight: 1, fillColor: "#c07a2c", fillOpacity: 0.08 }
  };
  var SELECTED = { color: "#c62828", weight: 3, fillColor: "#c62828", fillOpacity: 0.18 };

  // ---- map and base tiles -------------------------------------------------------------------
  var map = L.map(mapEl, { preferCanvas: true, minZoom: 3, maxZoom: 19, zoomSnap: 1 });
  // Components (inventory) at high zoom, for signed-in staff only: the register is not public.
  if (window.CitygridComponents) window.CitygridComponents.attach(map);
  if (config.tiles && config.tiles.length) {
    config.tiles.forEach(function (t) {
      L.tileLayer(t.url, { subdomains: t.subdomains, attribution: t.attribution, maxZoom: t.maxZoom })
        .addTo(map);
    });
  } else {
    mapEl.classList.add("no-tiles");
  }

  function viewFromHash() {
    var m = /^#(\d{1,2})\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(window.location.hash);
    if (!m) return null;
    var z = parseInt(m[1], 10), lat = parseFloat(m[2]), lon = parseFloat(m[3]);
    if (z < 3 || z > 19 || Math.abs(lat) > 85 || Math.abs(lon) > 180) return null;
    return { zoom: z, center: [lat, lon] };
  }

  var initial = viewFromHash();
  if (initial) {
    map.setView(initial.center, initial.zoom);
  } else if (config.bounds) {
    map.fitBounds(config.bounds, { padding: [16, 16], maxZoom: 11 });
  } else {
    map.setView(config.center, config.zoom);
  }

  // ---- status line ---------------------------------------------------------------------------
  var levelNameEl = document.getElementById("map-level-name");
  var zoomEl = document.getElementById("map-zoom");
  var messageEl = document.getElementById("map-message");

  function levelFor(zoom) {
    for (var i = 0; i < config.levels.length; i++) {
      var l = config.levels[i];
      if (zoom >= l.minZoom && zoom <= l.maxZoom) return l.level;
    }
    return config.levels[config.levels.length - 1].level;
  }

  function setStatus(status, message) {
    mapEl.dataset.status = status;
    if (message) {
      messageEl.textContent = message;
      messageEl.className = "map-message map-message-" + status;
      messageEl.hidden = false;
    } else {
      messageEl.textContent = "";
      messageEl.hidden = true;
    }
  }

  function showLevel(level) {
    levelNameEl.textContent = labels[level] || level;
    zoomEl.textContent = String(map.getZoom());
    document.querySelectorAll("[data-legend-level]").forEach(function (li) {
      li.classList.toggle("is-current", li.getAttribute("data-legend-level") === level);
    });
  }

  // ---- boundaries by viewport ----------------------------------------------------------------
  var selectedCode = null;
  var loaded = null; // {level, bounds} of the last complete load
  var loadController = null;
  var loadTimer = null;

  function styleFor(feature) {
    var p = feature.properties || {};
    return p.code === selectedCode ? SELECTED : STYLES[p.level] || STYLES.grid;
  }

  function tooltipFor(layer) {
    var p = layer.feature.properties || {};
    var span = document.createElement("span");
    span.textContent = p.level === "grid" ? p.code : p.name || p.code || "";
    return span;
  }

  // The parent level's outlines, drawn over the current level for orientation; not clickable.
  var context = L.geoJSON(null, {
    interactive: false,
    style: function (feature) {
      var base = STYLES[(feature.properties || {}).level] || STYLES.district;
      return { color: base.color, weight: base.weight + 1, opacity: 0.85, fill: false };
    }
  });

  var features = L.geoJSON(null, {
    style: styleFor,
    onEachFeature: function (feature, layer) {
      var p = feature.properties || {};
      if (p.level === "grid") {
        layer.bindTooltip(tooltipFor, { sticky: true, direction: "top", opacity: 0.92 });
      } else {
        // Few areas are in view at their zoom: name them on the map itself.
        layer.bindTooltip(tooltipFor, { permanent: true, direction: "center", className: "area-label" });
      }
      layer.on("click", function (e) {
        L.DomEvent.stopPropagation(e);
        selectFeature(feature.properties || {});
      });
    }
  }).addTo(map);
  context.addTo(map);

  function parentLevel(level) {
    for (var i = 1; i < config.levels.length; i++) {
      if (config.levels[i].level === level) return config.levels[i - 1].level;
    }
    return null;
  }

  function getJSON(url, signal) {
    return fetch(url, { signal: signal, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().catch(function () { return null; }).then(function (body) {
          return { ok: resp.ok, status: resp.status, body: body };
        });
      });
  }

  function featuresURL(level, bounds) {
    return config.api + "features?level=" + encodeURIComponent(level) +
      "&bbox=" + encodeURIComponent(bboxParam(bounds));
  }

  var contextLevel = null;

  function loadContext(level, bounds, controller) {
    var parent = parentLevel(level);
    if (parent !== contextLevel) context.clearLayers();
    contextLevel = parent;
    if (!parent) return;
    getJSON(featuresURL(parent, bounds), controller.signal).then(function (r) {
      if (controller !== loadController) return;
      context.clearLayers();
      if (r.ok && r.body && r.body.type === "FeatureCollection") context.addData(r.body);
    }).catch(function () { /* outlines are a help, not essential */ });
  }

  function bboxParam(bounds) {
    var clamp = function (v, lim) { return Math.max(-lim, Math.min(lim, v)); };
    return [
      clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90),
      clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90)
    ].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function scheduleLoad() {
    var level = levelFor(map.getZoom());
    showLevel(level);
    window.clearTimeout(loadTimer);
    loadTimer = window.setTimeout(load, DEBOUNCE_MS);
  }

  function load() {
    var level = levelFor(map.getZoom());
    var view = map.getBounds();
    if (loaded && loaded.level === level && loaded.bounds.contains(view)) {
      return; // what is on screen is already drawn
    }
    if (loadController) loadController.abort(); // a newer view replaces any request in flight
    var controller = new AbortController();
    loadController = controller;
    var bounds = view.pad(PAD);
    mapEl.dataset.level = level;
    setStatus("loading", null);
    if (!loaded || loaded.level !== level) features.clearLayers();
    loadContext(level, bounds, controller);

    fetchLevel(level, bounds, view, controller);
  }

  // Fetch one level for `bounds`; when the padded box holds too many, retry with just the view.
  function fetchLevel(level, bounds, view, controller) {
    getJSON(featuresURL(level, bounds), controller.signal)
      .then(function (r) {
        if (controller !== loadController) return;
        if (r.ok && r.body && r.body.type === "FeatureCollection") {
          features.clearLayers();
          features.addData(r.body);
          loaded = { level: level, bounds: bounds };
          mapEl.dataset.count = String(r.body.features.length);
          setStatus("ready", null);
        } else if (r.status === 422 && r.body && r.body.code === "too_many_features") {
          if (bounds !== view) return fetchLevel(level, view, view, controller);
          features.clearLayers();
          loaded = null;
          setStatus("too-many", labels.tooMany);
        } else {
          loaded = null;
          setStatus("error", labels.loadFailed);
        }
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        if (controller !== loadController) return;
        loaded = null;
        setStatus("error", labels.loadFailed);
      });
  }

  map.on("moveend", function () {
    var c = map.getCenter();
    var hash = "#" + map.getZoom() + "/" + c.lat.toFixed(5) + "/" + c.lng.toFixed(5);
    if (window.location.hash !== hash) window.history.replaceState(null, "", hash);
    scheduleLoad();
  });
  window.addEventListener("hashchange", function () {
    var v = viewFromHash();
    if (v) map.setView(v.center, v.zoom);
  });

  // ---- info panel ----------------------------------------------------------------------------
  var panel = document.getElementById("info-panel");
  var titleEl = document.getElementById("info-title");
  var subtitleEl = document.getElementById("info-subtitle");
  var listEl = document.getElementById("info-list");
  var panelMessageEl = document.getElementById("info-message");
  var hintEl = document.getElementById("map-hint");
  var infoController = null;
  var pointMarker = null;

  function openPanel(title, subtitle) {
    titleEl.textContent = title;
    subtitleEl.textContent = subtitle || "";
    listEl.replaceChildren();
    panelMessageEl.hidden = true;
    panel.hidden = false;
    panel.dataset.status = "loading";
    hintEl.hidden = true;
  }

  function panelMessage(text, status) {
    panelMessageEl.textContent = text;
    panelMessageEl.hidden = false;
    panel.dataset.status = status;
  }

  function addRow(term, value, code) {
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    if (value) {
      var v = document.createElement("span");
      v.textContent = value;
      dd.appendChild(v);
    }
    if (code) {
      var c = document.createElement("code");
      c.textContent = code;
      dd.appendChild(c);
    }
    listEl.appendChild(dt);
    listEl.appendChild(dd);
  }

  function addArea(level, area) {
    if (area && (area.name || area.code)) addRow(labels[level] || level, area.name, area.code);
  }

  function formatArea(m2) {
    if (typeof m2 !== "number" || !isFinite(m2)) return null;
    return Math.round(m2).toLocaleString(document.documentElement.lang || undefined) + " " + labels.areaUnit;
  }

  function fetchInfo(path) {
    if (infoController) infoController.abort();
    var controller = new AbortController();
    infoController = controller;
    return getJSON(config.api + path, controller.signal).then(function (r) {
      if (controller !== infoController) throw { name: "AbortError" };
      return r;
    });
  }

  function failed(err, r) {
    if (err && err.name === "AbortError") return;
    if (r && r.status === 404) {
      panelMessage(r.body && r.body.code === "outside_coverage" ? labels.outside : labels.notFound, "not-found");
    } else {
      panelMessage(labels.loadFailed, "error");
    }
  }

  function showGrid(code) {
    openPanel(labels.grid, code);
    fetchInfo("grids/" + encodeURIComponent(code)).then(function (r) {
      if (!r.ok || !r.body) return failed(null, r);
      var g = r.body;
      addRow(labels.gridCode, null, g.code);
      var area = formatArea(g.area_m2);
      if (area) addRow(labels.area, area, null);
      addArea("community", g.community);
      addArea("street", g.street);
      addArea("district", g.district);
      addArea("city", g.city);
      panel.dataset.status = "ready";
    }, failed);
  }

  function showArea(props) {
    openPanel(props.name || labels[props.level] || "", (labels[props.level] || "") + " " + (props.code || ""));
    fetchInfo("areas/" + encodeURIComponent(props.code)).then(function (r) {
      if (!r.ok || !r.body) return failed(null, r);
      var a = r.body;
      titleEl.textContent = a.name || props.name || "";
      subtitleEl.textContent = (labels[a.level] || a.level || "") + " " + (a.code || "");
      addRow(labels.code, null, a.code);
      var area = formatArea(a.area_m2);
      if (area) addRow(labels.area, area, null);
      // Nearest parent first, as in the grid panel.
      (a.hierarchy || []).slice().reverse().forEach(function (h) {
        if (h.code !== a.code) addArea(h.level, h);
      });
      panel.dataset.status = "ready";
    }, failed);
  }

  function selectFeature(props) {
    if (!props.code) return;
    selectedCode = props.code;
    features.setStyle(styleFor);
    if (pointMarker) { map.removeLayer(pointMarker); pointMarker = null; }
    if (props.level === "grid") showGrid(props.code); else showArea(props);
  }

  function showPoint(latlng) {
    selectedCode = null;
    features.setStyle(styleFor);
    if (pointMarker) map.removeLayer(pointMarker);
    pointMarker = L.circleMarker(latlng, { radius: 6, color: "#c62828", weight: 2, fillColor: "#fff", fillOpacity: 1 })
      .addTo(map);
    var lon = latlng.lng.toFixed(6), lat = latlng.lat.toFixed(6);
    openPanel(labels.point, lon + ", " + lat);
    fetchInfo("geocode?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat)).then(function (r) {
      if (!r.ok || !r.body) return failed(null, r);
      var g = r.body;
      if (g.grid) addRow(labels.gridCode, null, g.grid.code);
      addArea("community", g.community);
      addArea("street", g.street);
      addArea("district", g.district);
      addArea("city", g.city);
      panel.dataset.status = "ready";
    }, failed);
  }

  map.on("click", function (e) { showPoint(e.latlng); });

  function closePanel() {
    if (infoController) infoController.abort();
    panel.hidden = true;
    selectedCode = null;
    features.setStyle(styleFor);
    if (pointMarker) { map.removeLayer(pointMarker); pointMarker = null; }
  }
  document.getElementById("info-close").addEventListener("click", closePanel);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) closePanel();
  });

  showLevel(levelFor(map.getZoom()));
  load();
})();
