/* citygrid case pages: the small location map (detail), the point picker with geocoding and
   the photo preview (report form), and the class list filtered by kind. Config comes from
   json_script; data text is inserted with textContent, never as HTML. */
(function () {
  "use strict";

  var configEl = document.getElementById("case-map-config");
  var labelsEl = document.getElementById("case-map-labels");
  var config = configEl ? JSON.parse(configEl.textContent) : null;
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) || {} : {};

  function baseMap(el, cfg) {
    var map = L.map(el, { minZoom: 3, maxZoom: 19, zoomSnap: 1 });
    if (cfg.tiles && cfg.tiles.length) {
      cfg.tiles.forEach(function (t) {
        L.tileLayer(t.url, { subdomains: t.subdomains, attribution: t.attribution, maxZoom: t.maxZoom }).addTo(map);
      });
    } else {
      el.classList.add("no-tiles");
    }
    return map;
  }

  var POINT = { radius: 7, color: "#ffffff", weight: 2, fillColor: "#c62828", fillOpacity: 1 };
  var GRID = { color: "#c07a2c", weight: 2, fillColor: "#c07a2c", fillOpacity: 0.12 };

  // ---- detail: the case's point and unit grid --------------------------------------------------
  var caseMapEl = document.getElementById("case-map");
  if (caseMapEl && config && window.L) {
    var caseMap = baseMap(caseMapEl, config);
    var marker = L.circleMarker(config.point, POINT).addTo(caseMap);
    if (config.grid) {
      var grid = L.geoJSON(config.grid, { style: GRID, interactive: false }).addTo(caseMap);
      caseMap.fitBounds(grid.getBounds(), { padding: [24, 24], maxZoom: 18 });
    } else {
      caseMap.setView(config.point, config.zoom || 17);
    }
    marker.bringToFront();
    caseMapEl.dataset.status = "ready";
  }

  // ---- report: pick a point, geocode it ----------------------------------------------------------
  var pickEl = document.getElementById("pick-map");
  if (pickEl && config && window.L) {
    var lonInput = document.getElementById("id_lon");
    var latInput = document.getElementById("id_lat");
    var resultEl = document.getElementById("geocode-result");
    var messageEl = document.getElementById("geocode-message");
    var pickMap = baseMap(pickEl, config);
    var picked = null;
    var controller = null;

    function show(rows) {
      resultEl.textContent = "";
      rows.forEach(function (row) {
        var dt = document.createElement("dt");
        dt.textContent = row[0];
        var dd = document.createElement("dd");
        dd.textContent = row[1];
        resultEl.appendChild(dt);
        resultEl.appendChild(dd);
      });
      resultEl.hidden = rows.length === 0;
    }

    function message(text) {
      messageEl.textContent = text || "";
      messageEl.hidden = !text;
    }

    function geocode(lat, lon) {
      if (controller) controller.abort();
      controller = new AbortController();
      var url = config.geocode + "?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat);
      pickEl.dataset.status = "loading";
      fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          pickEl.dataset.status = "ready";
          if (!res.ok) {
            show([]);
            message(res.body.code === "outside_coverage" ? labels.outside : (res.body.message || labels.failed));
            return;
          }
          var b = res.body;
          message("");
          show([[labels.district, b.district.name], [labels.street, b.street.name],
                [labels.community, b.community.name], [labels.grid, b.grid.code]]);
        })
        .catch(function (err) {
          if (err.name === "AbortError") return;
          pickEl.dataset.status = "error";
          message(labels.failed);
        });
    }

    function place(lat, lon, pan) {
      if (picked) picked.setLatLng([lat, lon]);
      else picked = L.circleMarker([lat, lon], POINT).addTo(pickMap);
      if (pan) pickMap.setView([lat, lon], Math.max(pickMap.getZoom() || 0, 16));
      geocode(lat, lon);
    }

    var lat0 = parseFloat(latInput.value), lon0 = parseFloat(lonInput.value);
    if (isFinite(lat0) && isFinite(lon0)) {
      pickMap.setView([lat0, lon0], 16);
      place(lat0, lon0, false);
    } else if (config.bounds) {
      pickMap.fitBounds(config.bounds, { padding: [8, 8], maxZoom: 16 });
    } else {
      pickMap.setView(config.center, config.zoom);
    }
    // Street outlines for orientation (the map page's features API); not clickable.
    if (config.api) {
      var b = pickMap.getBounds().pad(0.5);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",");
      fetch(config.api + "features?level=street&bbox=" + encodeURIComponent(bbox), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          L.geoJSON(data, {
            interactive: false,
            style: { color: "#2a7f8e", weight: 1.5, fillColor: "#2a7f8e", fillOpacity: 0.04 }
          }).addTo(pickMap);
          if (picked) picked.bringToFront();
        })
        .catch(function () { /* orientation only */ });
    }
    pickMap.on("click", function (e) {
      lonInput.value = e.latlng.lng.toFixed(7);
      latInput.value = e.latlng.lat.toFixed(7);
      place(e.latlng.lat, e.latlng.lng, false);
    });
    [lonInput, latInput].forEach(function (input) {
      input.addEventListener("change", function () {
        var la = parseFloat(latInput.value), lo = parseFloat(lonInput.value);
        if (isFinite(la) && isFinite(lo)) place(la, lo, true);
      });
    });
    pickEl.dataset.status = "ready";
  }

  // ---- report: photo preview ---------------------------------------------------------------------
  var photos = document.getElementById("id_photos");
  var preview = document.getElementById("photo-preview");
  if (photos && preview) {
    photos.addEventListener("change", function () {
      preview.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
      preview.textContent = "";
      Array.prototype.forEach.call(photos.files, function (file) {
        var figure = document.createElement("figure");
        var img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        var caption = document.createElement("figcaption");
        caption.textContent = file.name + " · " + Math.round(file.size / 1024) + " KB";
        figure.appendChild(img);
        figure.appendChild(caption);
        preview.appendChild(figure);
      });
    });
  }

  // ---- one submit per click: the idempotency key makes a repeat harmless, this makes it rare --
  document.querySelectorAll("form.report-form, details.op form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });

  // ---- report: classes of the chosen kind only ----------------------------------------------------
  var kind = document.getElementById("id_kind");
  var category = document.getElementById("id_category_code");
  if (kind && category) {
    var filter = function () {
      Array.prototype.forEach.call(category.querySelectorAll("optgroup"), function (group) {
        var prefix = (labels.kinds || {})[kind.value];
        var match = !prefix || group.label.indexOf(prefix + " · ") === 0;
        group.hidden = !match;
        group.disabled = !match;
      });
      var selected = category.options[category.selectedIndex];
      if (selected && selected.parentNode.disabled) category.value = "";
    };
    kind.addEventListener("change", filter);
    filter();
  }
})();
