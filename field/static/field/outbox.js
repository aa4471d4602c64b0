/* The phone's outbox of submissions (IndexedDB), shared by the pages (m.js) and the service worker (sw.js).
   Item: {key, url, label, fields: [[name, value]], files: [[name, blob, filename]], csrf, created, queued, state}.
   `key` is the client-made idempotency key: every attempt sends the same one, so the server applies it once. */
(function (scope) {
  "use strict";

  const DB_NAME = "cc-grid";
  const STORE = "outbox";

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, {keyPath: "key"});
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function store(mode, fn) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = fn(tx.objectStore(STORE));
      tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : undefined); };
      tx.onerror = () => { db.close(); reject(tx.error); };
    });
  }

  // POST one item. Throws when there is no network; otherwise {status, data, json}.
  async function send(item, csrf) {
    const form = new FormData();
    item.fields.forEach(([k, v]) => form.append(k, v));
    item.files.forEach(([k, blob, name]) => form.append(k, blob, name));
    const response = await fetch(item.url, {
      method: "POST", body: form, credentials: "same-origin",
      headers: {"X-CSRFToken": csrf || item.csrf || "", "Idempotency-Key": item.key, "Accept": "application/json"},
    });
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return {status: response.status, data: data || {}, json: data !== null};
  }

  // What to do with an answer: "sent", "failed" (refused for good), "relogin" (keep until signed in), "retry".
  function outcome(result) {
    if (result.status >= 200 && result.status < 300) return "sent";
    if (result.status === 401 || (result.status === 403 && !result.json)) return "relogin";
    if (result.status >= 500 || result.status === 0 || result.status === 429) return "retry";
    return "failed";
  }

  scope.ccOutbox = {
    SYNC_TAG: "cc-grid-outbox",
    put: (item) => store("readwrite", (s) => s.put(item)),
    remove: (key) => store("readwrite", (s) => s.delete(key)),
    all: () => store("readonly", (s) => s.getAll()).then((items) => items.sort((a, b) => a.created - b.created)),
    send,
    outcome,
  };
})(self);
