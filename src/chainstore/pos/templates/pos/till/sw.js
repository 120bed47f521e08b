// The till's service worker (scope {{ scope }}): keeps the checkout page and the static
// files it uses, so a till that lost the network can still reload the checkout and sell
// from its saved catalog. Network first, the kept copy only when there is no answer;
// the API is never cached (offline sales wait in the page's own queue).
"use strict";
var CACHE = "cs-pos-pages-v1";
var PAGE = "{{ scope|escapejs }}";
var STATIC = "{{ static_url|escapejs }}";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  var page = request.mode === "navigate" && url.pathname === PAGE;
  var asset = url.pathname.indexOf(STATIC) === 0;
  if (!page && !asset) return;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && response.type === "basic" && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(page ? PAGE : request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(page ? PAGE : request, { ignoreVary: true, ignoreSearch: page });
      }).then(function (kept) { return kept || Response.error(); });
    })
  );
});
