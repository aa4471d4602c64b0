/* Service worker of the grid worker's workspace: keeps the app shell so /m/ opens without signal, and sends
   the outbox (IndexedDB, outbox.js) by background sync when the signal returns. Pages send it too (m.js);
   every attempt carries the item's idempotency key, so whoever sends first, the server applies it once. */
importScripts("{{ outbox_js|escapejs }}");

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

// Background sync: send what waits in the outbox when the signal returns, even with every /m/ page closed.
// A page may be sending the same item at the same moment; the idempotency key makes that harmless.
self.addEventListener("sync", (event) => {
  if (event.tag === self.ccOutbox.SYNC_TAG) event.waitUntil(replay());
});

async function replay() {
  const outbox = self.ccOutbox;
  let retry = false;
  for (const item of await outbox.all()) {
    if (item.state === "relogin") continue;
    const result = await outbox.send(item);  // throws without signal: the browser tries the sync again later
    const next = outbox.outcome(result);
    if (next === "sent" || next === "failed") {
      await outbox.remove(item.key);
      await tell({type: "outbox", state: next, item: {key: item.key, label: item.label, queued: true}, data: result.data});
    } else if (next === "relogin") {
      await outbox.put({...item, state: "relogin"});
    } else {
      retry = true;
    }
  }
  if (retry) throw new Error("the server is unavailable; try again later");
}

async function tell(message) {
  const pages = await self.clients.matchAll({type: "window", includeUncontrolled: true});
  pages.forEach((page) => page.postMessage(message));
}
