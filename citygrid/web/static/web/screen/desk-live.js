/* Desk live updates: polls the change token of the user's queue (/live/token.json) and, when
   it changes, reloads the queue list through htmx (no page reload). Include it on a page that
   has #queue-results (with hx-get) and htmx:
     <script src="{% static 'web/screen/desk-live.js' %}" data-token-url="{% url 'web:live_token' %}?role={{ role|urlencode }}" defer></script>
   Options on the script tag: data-token-url (required), data-target (default #queue-results),
   data-seconds (default 10). */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) return;
  var url = script.getAttribute("data-token-url");
  var selector = script.getAttribute("data-target") || "#queue-results";
  var seconds = parseInt(script.getAttribute("data-seconds") || "10", 10);
  if (!url || !(seconds > 0)) return;
  var last = null;
  var busy = false;

  function reload() {
    var el = document.querySelector(selector);
    if (!el || !window.htmx) return;
    var source = el.getAttribute("hx-get");
    if (!source) return;
    // Keep what the user is doing: no refresh while a field inside the list has the focus.
    if (el.contains(document.activeElement) && document.activeElement !== document.body) return;
    window.htmx.ajax("GET", source, { target: el, swap: "outerHTML" });
  }

  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (body) {
        if (!body || !body.token) return;
        if (last !== null && body.token !== last) {
          reload();
          document.dispatchEvent(new CustomEvent("citygrid:queue-changed", { detail: body }));
        }
        last = body.token;
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { busy = false; });
  }

  poll();
  window.setInterval(poll, seconds * 1000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  window.citygridDeskLive = { poll: poll };
})();
