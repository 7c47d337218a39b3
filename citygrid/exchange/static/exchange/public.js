/* citygrid public pages: tap the map to mark a report's place; the open-problems map. */
(function () {
  "use strict";
  var configEl = document.getElementById("public-map-config");
  if (!configEl || typeof L === "undefined") return;
  var config = JSON.parse(configEl.textContent);

  function makeMap(el) {
    var map = L.map(el, { minZoom: 3, maxZoom: 19, zoomSnap: 0.25 });
    if (config.tiles && config.tiles.length) {
      config.tiles.forEach(function (t) {
        L.tileLayer(t.url, { subdomains: t.subdomains, attribution: t.attribution, maxZoom: t.maxZoom }).addTo(map);
      });
    } else {
      el.classList.add("no-tiles");
    }
    if (config.bounds) {
      map.fitBounds(config.bounds, { padding: [8, 8], maxZoom: 13 });
      drawDistricts(map, config.bounds);
    } else {
      map.setView(config.center, config.zoom || 11);
    }
    return map;
  }

  // District outlines so the map means something without base tiles.
  function drawDistricts(map, bounds) {
    if (!config.api) return;
    var bbox = [bounds[0][1], bounds[0][0], bounds[1][1], bounds[1][0]].join(",");
    fetch(config.api + "features?level=district&bbox=" + encodeURIComponent(bbox), {
      headers: { Accept: "application/json" }, credentials: "same-origin"
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) return;
      L.geoJSON(data, { interactive: false, style: { color: "#1d4f91", weight: 1.5, fillOpacity: 0.04 } }).addTo(map);
    }).catch(function () { /* outlines are a courtesy; the map works without them */ });
  }

  var pickEl = document.getElementById("pick-map");
  if (pickEl) {
    var map = makeMap(pickEl);
    pickEl.leafletMap = map; // for tests and scripts that place the marker programmatically
    var lonInput = document.getElementById("id_lon");
    var latInput = document.getElementById("id_lat");
    var picked = document.getElementById("picked");
    var marker = null;
    var place = function (lat, lon) {
      lonInput.value = lon.toFixed(6);
      latInput.value = lat.toFixed(6);
      if (marker) marker.setLatLng([lat, lon]);
      else marker = L.circleMarker([lat, lon], { radius: 9, color: "#b42318", weight: 3, fillOpacity: 0.5 }).addTo(map);
      picked.textContent = "✓ " + lat.toFixed(5) + ", " + lon.toFixed(5);
      pickEl.dataset.status = "picked";
    };
    map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng); });
    if (lonInput.value && latInput.value) {
      place(parseFloat(latInput.value), parseFloat(lonInput.value));
      map.setView([parseFloat(latInput.value), parseFloat(lonInput.value)], 16);
    }
    var locate = document.getElementById("use-location");
    if (locate && navigator.geolocation) {
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (pos) {
          place(pos.coords.latitude, pos.coords.longitude);
          map.setView([pos.coords.latitude, pos.coords.longitude], 17);
        });
      });
    } else if (locate) {
      locate.hidden = true;
    }
    pickEl.dataset.status = pickEl.dataset.status === "picked" ? "picked" : "ready";
  }

  var problemEl = document.getElementById("problem-map");
  if (problemEl) {
    var pmap = makeMap(problemEl);
    fetch(problemEl.dataset.source, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        L.geoJSON(data, {
          pointToLayer: function (feature, latlng) {
            var n = feature.properties.count;
            return L.circleMarker(latlng, { radius: 6 + Math.min(n, 10), color: "#8a5a00", weight: 2, fillOpacity: 0.45 });
          },
          onEachFeature: function (feature, layer) {
            var p = feature.properties;
            var text = document.createElement("span");
            text.textContent = p.name + (p.count > 1 ? " × " + p.count : "");
            layer.bindPopup(text);
          }
        }).addTo(pmap);
        problemEl.dataset.count = String(data.features.length);
        problemEl.dataset.status = "ready";
      })
      .catch(function () { problemEl.dataset.status = "error"; });
  }
})();
