/* citygrid screens: a Leaflet layer of cases fed by /live/cases.json (clusters computed on the
   server, single cases at high zoom, or heat cells), plus our own boundaries from the features
   API. Shared by the live map, the big screen and the street platform. Data text is inserted
   with textContent, never as HTML. */
(function () {
  "use strict";

  var LEVEL_COLORS = { red: "#d32f2f", yellow: "#f2a900", green: "#2e7d32", none: "#78909c" };
  var STATE_COLORS = {
    to_verify: "#8e24aa", to_file: "#5e35b1", to_dispatch: "#3949ab", dispatched: "#1e88e5",
    handling: "#00897b", postponement_requested: "#6d4c41", suspended: "#757575",
    in_collaboration: "#f4511e", to_check: "#9e9d24", to_close: "#43a047", closed: "#9e9e9e",
    rejected: "#bdbdbd", merged: "#bdbdbd", voided: "#bdbdbd"
  };

  function bboxParam(bounds) {
    var clamp = function (v, lim) { return Math.max(-lim, Math.min(lim, v)); };
    return [
      clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90),
      clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90)
    ].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function getJSON(url, signal) {
    return fetch(url, { signal: signal, headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        return resp.json();
      });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Base tiles (if the site has any) and a map that fits the coverage.
  function baseMap(element, config, options) {
    var map = L.map(element, Object.assign({ preferCanvas: true, minZoom: 3, maxZoom: 19, zoomSnap: 1 }, options || {}));
    if (config.tiles && config.tiles.length) {
      config.tiles.forEach(function (t) {
        L.tileLayer(t.url, { subdomains: t.subdomains, attribution: t.attribution, maxZoom: t.maxZoom }).addTo(map);
      });
    } else {
      element.classList.add("no-tiles");
    }
    if (config.bounds) map.fitBounds(config.bounds, { padding: [12, 12] });
    else map.setView(config.center, config.zoom);
    return map;
  }

  // Outlines of one level inside a box, optionally only those whose code starts with `prefix`.
  function outlines(map, config, level, bbox, style, prefix) {
    var layer = L.geoJSON(null, {
      interactive: false,
      style: function () { return style; },
      filter: function (f) { return !prefix || String((f.properties || {}).code || "").indexOf(prefix) === 0; }
    }).addTo(map);
    var url = config.api + "features?level=" + encodeURIComponent(level) + "&bbox=" + encodeURIComponent(bbox);
    getJSON(url).then(function (body) {
      if (body && body.type === "FeatureCollection") layer.addData(body);
    }).catch(function () { /* outlines help, they are not essential */ });
    return layer;
  }

  function clusterSize(n) {
    return Math.round(Math.min(64, 26 + 9 * Math.log10(Math.max(1, n)) * 2));
  }

  function worstLevel(c) {
    if (c.red) return "red";
    if (c.yellow) return "yellow";
    if (c.green) return "green";
    return "none";
  }

  /* CaseLayer(map, options): options.url (cases.json), options.query() → extra query string,
     options.colourBy() → "level" | "state", options.heat() → bool, options.labels,
     options.caseUrl ("…/NUMBER/"), options.pollSeconds, options.onData(body),
     options.statusEl (gets data-status and data-count). */
  function CaseLayer(map, options) {
    this.map = map;
    this.options = options;
    this.group = L.layerGroup().addTo(map);
    // SVG for the cases (the map itself prefers canvas for the boundaries): few shapes, each a
    // real element that can be styled, focused and tested.
    this.renderer = L.svg({ padding: 0.3 });
    this.controller = null;
    this.timer = null;
    var self = this;
    map.on("moveend", function () { self.schedule(); });
    if (options.pollSeconds) {
      window.setInterval(function () {
        if (!document.hidden) self.refresh();
      }, options.pollSeconds * 1000);
    }
  }

  CaseLayer.prototype.schedule = function () {
    var self = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.refresh(); }, 200);
  };

  CaseLayer.prototype.setStatus = function (status, count) {
    var target = this.options.statusEl || this.map.getContainer();
    target.dataset.status = status;
    if (count !== undefined) target.dataset.count = String(count);
  };

  CaseLayer.prototype.refresh = function () {
    var self = this;
    var opts = this.options;
    if (this.controller) this.controller.abort();
    var controller = new AbortController();
    this.controller = controller;
    var heat = opts.heat ? opts.heat() : false;
    var url = opts.url + "?bbox=" + encodeURIComponent(bboxParam(this.map.getBounds())) +
      "&zoom=" + this.map.getZoom() + (heat ? "&heat=1" : "") +
      (opts.query ? "&" + opts.query() : "");
    this.setStatus("loading");
    return getJSON(url, controller.signal).then(function (body) {
      if (controller !== self.controller) return;
      self.draw(body);
      self.setStatus("ready", body.total);
      if (opts.onData) opts.onData(body);
    }).catch(function (err) {
      if (err && err.name === "AbortError") return;
      self.setStatus("error");
      if (opts.onError) opts.onError(err);
    });
  };

  CaseLayer.prototype.colour = function (item) {
    var by = this.options.colourBy ? this.options.colourBy() : "level";
    if (by === "state") return STATE_COLORS[item.state] || "#1d4f91";
    return LEVEL_COLORS[item.level || worstLevel(item)] || LEVEL_COLORS.none;
  };

  CaseLayer.prototype.draw = function (body) {
    var self = this;
    var map = this.map;
    this.group.clearLayers();
    if (body.mode === "heat") {
      body.cells.forEach(function (c) {
        var t = body.max ? c.n / body.max : 0;
        // light yellow → deep red by share of the busiest cell
        var hue = Math.round(50 - 50 * t);
        L.rectangle(c.bounds, {
          stroke: false, fillColor: "hsl(" + hue + ", 90%, " + Math.round(60 - 20 * t) + "%)",
          fillOpacity: 0.35 + 0.4 * t, className: "cg-heat", renderer: self.renderer
        }).bindTooltip(String(c.n)).addTo(self.group);
      });
      return;
    }
    if (body.mode === "clusters") {
      var byState = this.options.colourBy && this.options.colourBy() === "state";
      body.clusters.forEach(function (c) {
        var size = clusterSize(c.n);
        var node = el("div", "cg-cluster-inner", c.n);
        node.style.background = byState ? "#1d4f91" : self.colour(c);
        node.style.width = node.style.height = node.style.lineHeight = size + "px";
        var icon = L.divIcon({ html: node, className: "cg-cluster", iconSize: [size, size] });
        var marker = L.marker([c.lat, c.lon], { icon: icon, keyboard: false, title: String(c.n) });
        marker.on("click", function () { map.setView([c.lat, c.lon], Math.min(map.getZoom() + 2, 19)); });
        marker.addTo(self.group);
      });
      return;
    }
    var labels = this.options.labels || {};
    body.cases.forEach(function (c) {
      var marker = L.circleMarker([c.lat, c.lon], {
        radius: 7, weight: 2, color: "#ffffff", fillColor: self.colour(c), fillOpacity: 0.95,
        className: "cg-case", renderer: self.renderer
      });
      marker.bindPopup(function () {
        var box = el("div", "cg-popup");
        var link = el("a", "cg-popup-number", c.number);
        if (self.options.caseUrl) link.href = self.options.caseUrl.replace("NUMBER", encodeURIComponent(c.number));
        box.appendChild(link);
        var dl = el("dl");
        [[labels.state, (labels.states || {})[c.state] || c.state],
         [labels["class"], c.category],
         [labels.deadline, c.deadline ? new Date(c.deadline).toLocaleString() : "—"]].forEach(function (row) {
          dl.appendChild(el("dt", null, row[0]));
          dl.appendChild(el("dd", null, row[1]));
        });
        box.appendChild(dl);
        return box;
      });
      marker.addTo(self.group);
    });
  };

  window.CitygridCaseMap = {
    LEVEL_COLORS: LEVEL_COLORS,
    STATE_COLORS: STATE_COLORS,
    bboxParam: bboxParam,
    getJSON: getJSON,
    el: el,
    baseMap: baseMap,
    outlines: outlines,
    CaseLayer: CaseLayer
  };
})();
