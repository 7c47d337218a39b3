// The street select submits its form on change (no inline handlers: CSP forbids them).
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
/* The street platform's map: the street's communities and unit grids (features API, by the
   street's bounding box and code prefix) and its open cases (clustered below zoom 16). */
(function () {
  "use strict";

  var CM = window.CitygridCaseMap;
  var config = JSON.parse(document.getElementById("street-config").textContent);
  var mapEl = document.getElementById("street-map");
  var street = config.street;
  var b = street.bbox; // [west, south, east, north]
  var bounds = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
  var map = CM.baseMap(mapEl, config);
  map.fitBounds(bounds, { padding: [10, 10] });
  var box = CM.bboxParam(bounds.pad(0.02));
  CM.outlines(map, config, "grid", box, { color: "#c07a2c", weight: 0.8, fill: false, opacity: 0.7 }, street.code);
  CM.outlines(map, config, "community", box, { color: "#5b8c3a", weight: 2, fill: false }, street.code);
  CM.outlines(map, config, "street", box, { color: "#1d4f91", weight: 3, fill: false }, street.code);
  var layer = new CM.CaseLayer(map, {
    url: config.casesUrl,
    query: function () { return "open=1&street=" + encodeURIComponent(street.code); },
    colourBy: function () { return "level"; },
    pollSeconds: 30
  });
  layer.refresh();
})();
