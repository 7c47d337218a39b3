/* citygrid mobile app: service worker. Served by citygrid.web.mobile_views.service_worker, which
   prepends VERSION (a hash of the shell files), SHELL (their URLs), APP (the app's URL, /m/)
   and API (/api/v1/).

   - The app shell (HTML, JS, CSS, Leaflet, icons, and the string catalogue of each language,
     /m/jsi18n/<language>/) is cached on install under a versioned name; older versions are
     deleted on activate.
   - Navigations to the app: network first (fresh roles, language, CSRF), the cached shell when
     offline. Shell files: cache first.
   - The classification (GET /api/v1/catalog/...): network first, cached copy when offline, so
     that the report form can search classes with no network.
   - Everything else, and every POST, is left to the network: reports made offline are kept by
     the page in IndexedDB and sent by it when the network returns. */
/* global VERSION, SHELL, APP, API */
"use strict";

var CACHE = "cg-mobile-" + VERSION;
var DATA = "cg-mobile-data";

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    var statics = SHELL.filter(function (url) { return url !== APP; });
    return cache.addAll(statics).then(function () {
      return fetch(APP, { credentials: "same-origin" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(APP, response);
        return undefined;
      }).catch(function () { return undefined; });
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("cg-mobile-") === 0 && name !== CACHE && name !== DATA;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, cacheName, key) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(cacheName).then(function (cache) { cache.put(key || request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(key || request).then(function (hit) {
      return hit || Response.error();
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === APP) {
    event.respondWith(networkFirst(request, CACHE, APP));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (url.pathname.indexOf(API + "catalog/") === 0) {
    event.respondWith(networkFirst(request, DATA));
  }
});
