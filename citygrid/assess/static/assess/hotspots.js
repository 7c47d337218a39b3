/* The assessment overview's hotspot map: communities (or unit grids) shaded by the number of
   cases reported in the chosen period and slice; a click lists the place's cases, each a link
   to its page. Config from the json_script "hotspot-config"; data text is inserted with
   textContent, never as HTML. Works without a tile server (the outlines are the map). */
(function () {
  "use strict";

  var source = document.getElementById("hotspot-config");
  var el = document.getElementById("hotspot-map");
  if (!source || !el || !window.L) return;
  var config = JSON.parse(source.textContent);
  var labels = config.labels;
  var levelEl = document.getElementById("hotspot-level");
  var messageEl = document.getElementById("hotspot-message");
  var SHADES = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"];

  var map = L.map(el, { minZoom: 3, maxZoom: 19, zoomSnap: 1 });  // SVG: one element per place
  map.setView([30.66, 104.06], 10);
  (config.tiles || []).forEach(function (t) {
    L.tileLayer(t.url, { subdomains: t.subdomains, attribution: t.attribution, maxZoom: t.maxZoom })
      .addTo(map);
  });
  var layer = null;
  var controller = null;

  function url(base, extra) {
    var params = new URLSearchParams(config.query);
    Object.keys(extra).forEach(function (k) { params.set(k, extra[k]); });
    return base + "?" + params.toString();
  }

  function getJSON(address) {
    if (controller) controller.abort();
    controller = new AbortController();
    return fetch(address, { signal: controller.signal, credentials: "same-origin",
                            headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function say(text) {
    messageEl.textContent = text || "";
    messageEl.hidden = !text;
  }

  function shade(cases, max) {
    var i = Math.min(SHADES.length - 1, Math.floor((cases / max) * SHADES.length));
    return SHADES[Math.max(0, i)];
  }

  function popup(feature, level) {
    var p = feature.properties;
    var box = document.createElement("div");
    box.className = "hotspot-popup";
    var title = document.createElement("strong");
    title.textContent = p.name + " (" + p.code + ")";
    var counts = document.createElement("div");
    counts.textContent = p.cases + " " + labels.cases + " · " + p.closed + " " + labels.closed +
      " · " + p.overdue + " " + labels.overdue;
    var list = document.createElement("ul");
    box.append(title, counts, list);
    getJSON(url(config.api + "/cases", { level: level, code: p.code, limit: 50 })).then(function (r) {
      r.cases.forEach(function (number) {
        var a = document.createElement("a");
        a.href = config.caseUrl.replace("NUMBER", encodeURIComponent(number));
        a.textContent = number;
        var li = document.createElement("li");
        li.append(a);
        list.append(li);
      });
      if (r.total > r.cases.length) {
        var more = document.createElement("li");
        more.textContent = labels.more.replace("%(n)s", String(r.total - r.cases.length));
        list.append(more);
      }
    }).catch(function () { list.textContent = labels.failed; });
    return box;
  }

  function draw(data, level) {
    if (layer) map.removeLayer(layer);
    var max = data.features.reduce(function (m, f) { return Math.max(m, f.properties.cases); }, 1);
    layer = L.geoJSON(data, {
      style: function (f) {
        return { color: "#7a1c1c", weight: 1, fillColor: shade(f.properties.cases, max), fillOpacity: 0.75 };
      },
      onEachFeature: function (f, lyr) {
        lyr.bindTooltip(f.properties.name + ": " + f.properties.cases);
        lyr.on("click", function (e) {
          L.popup().setLatLng(e.latlng).setContent(popup(f, level)).openOn(map);
        });
      }
    }).addTo(map);
    el.dataset.features = String(data.features.length);
    if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [12, 12], maxZoom: 15 });
    say(data.features.length ? "" : labels.none);
  }

  function load() {
    var level = levelEl ? levelEl.value : "community";
    el.dataset.status = "loading";
    getJSON(url(config.api, { level: level })).then(function (data) {
      draw(data, level);
      el.dataset.status = "ready";
    }).catch(function (err) {
      if (err.name === "AbortError") return;
      el.dataset.status = "error";
      say(labels.failed);
    });
  }

  if (levelEl) levelEl.addEventListener("change", load);
  load();
})();
