/* Service worker of the grid worker's workspace: keeps the app shell so /m/ opens without signal.
   Submissions made offline are kept by the page in IndexedDB (m.js) and replayed with their key. */
const CACHE = "cc-grid-{{ version|escapejs }}";
const SHELL = [{% for url in shell %}"{{ url|escapejs }}"{% if not forloop.last %}, {% endif %}{% endfor %}];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => Promise.all(SHELL.map((url) => cache.add(new Request(url, {credentials: "same-origin"})).catch(() => null))))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith("cc-grid-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POSTs go to the network; the page queues them when it is away
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/")) {
    // Static names carry a content hash: cache first.
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((response) => {
      if (response.ok) { const copy = response.clone(); caches.open(CACHE).then((c) => c.put(request, copy)); }
      return response;
    })));
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith("/m/")) {
    // Pages: fresh when there is signal, the last copy when there is none.
    event.respondWith(fetch(request).then((response) => {
      if (response.ok && !response.redirected) { const copy = response.clone(); caches.open(CACHE).then((c) => c.put(request, copy)); }
      return response;
    // ignoreVary: the pages vary on Cookie/Accept-Language, and this phone has one user and one language.
    }).catch(() => caches.match(request, {ignoreVary: true}).then((hit) => hit || caches.match("{{ shell.0|escapejs }}", {ignoreVary: true}))));
  }
});
