/* Grid worker's phone workspace: offline queue (IndexedDB), photo resizing, location with a map pin, patrol track.
   A submission gets a client-made idempotency key when it is first made; it is kept on the phone until the
   server answers, and every retry carries the same key, so the server applies it exactly once. */
(function () {
  "use strict";

  const MAX_SIDE = 1600; // photos are resized to this many pixels on their long side before upload
  const JPEG_QUALITY = 0.8;
  const body = document.body;

  // --- words (translated in the template) ----------------------------------------------------------------
  const words = {};
  const tpl = document.getElementById("i18n");
  if (tpl) tpl.content.querySelectorAll("[data-k]").forEach((el) => { words[el.dataset.k] = el.textContent.trim(); });
  const t = (k) => words[k] || k;

  // --- service worker ------------------------------------------------------------------------------------
  if ("serviceWorker" in navigator && body.dataset.sw) {
    navigator.serviceWorker.register(body.dataset.sw, {scope: body.dataset.scope}).catch(() => null);
  }

  // --- outbox (outbox.js keeps it in IndexedDB) ----------------------------------------------------------
  const outbox = self.ccOutbox;
  const queuePut = outbox.put;
  const queueDelete = outbox.remove;
  const queueAll = outbox.all;

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function csrfToken() {
    const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  // Try now; a network failure keeps it in the queue. Returns {status, data} or {queued: true}.
  async function submit(item) {
    await queuePut({...item, csrf: csrfToken(), state: "waiting"});
    return attempt(item.key);
  }

  // Ask the service worker to send the outbox when the signal returns, even if this page is closed by then.
  function requestSync() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.ready.then((reg) => reg.sync && reg.sync.register(outbox.SYNC_TAG)).catch(() => null);
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      const msg = event.data || {};
      if (msg.type !== "outbox") return;
      announce(msg.item, msg.state, msg.data);
      renderQueue();
    });
  }

  const inFlight = new Set();
  async function attempt(key) {
    if (inFlight.has(key)) return {queued: true};
    const items = await queueAll();
    const item = items.find((i) => i.key === key);
    if (!item) return {queued: false};
    inFlight.add(key);
    try {
      const result = await outbox.send(item, csrfToken());
      const next = outbox.outcome(result);
      if (next === "sent" || next === "failed") {
        // Refused for a reason a retry will not change, or done: either way it leaves the phone.
        await queueDelete(key);
        announce(item, next, result.data);
        return result;
      }
      // Signed out or the CSRF cookie changed (an HTML 403): keep it until the user signs in again.
      await queuePut({...item, queued: true, state: next === "relogin" ? "relogin" : "waiting"});
      announce(item, next === "relogin" ? "relogin" : "waiting", result.data);
      if (next === "retry") requestSync();
      return {queued: true};
    } catch (e) {
      await queuePut({...item, queued: true});  // no signal: it waits on the phone
      announce(item, "waiting");
      requestSync();
      return {queued: true};
    } finally {
      inFlight.delete(key);
      renderQueue();
    }
  }

  let flushing = false;
  async function flush() {
    if (flushing || !navigator.onLine) return;
    flushing = true;
    try {
      const items = (await queueAll()).sort((a, b) => a.created - b.created);
      for (const item of items) await attempt(item.key);
    } finally { flushing = false; }
  }

  // Answers of items sent while their form is no longer on screen go into the queue panel.
  const answered = new Map();
  function announce(item, state, data) {
    // Only what had to wait is reported in the panel; an immediate answer is shown where it was asked for.
    if (item.queued && (state === "sent" || state === "failed")) answered.set(item.key, {item, state, data});
    document.dispatchEvent(new CustomEvent("queue:" + state, {detail: {item, data}}));
  }

  async function renderQueue() {
    const panel = document.getElementById("queue");
    if (!panel) return;
    const list = panel.querySelector("ul");
    const items = (await queueAll()).sort((a, b) => a.created - b.created);
    list.innerHTML = "";
    items.forEach((item) => {
      const li = document.createElement("li");
      li.className = "q-" + (item.state || "waiting");
      li.dataset.key = item.key;
      li.innerHTML = "<span></span><small></small>";
      li.firstChild.textContent = item.label;
      li.lastChild.textContent = item.state === "relogin" ? t("relogin") : t("waiting");
      list.appendChild(li);
    });
    answered.forEach(({item, state, data}) => {
      const li = document.createElement("li");
      li.className = "q-" + state;
      li.dataset.key = item.key;
      li.innerHTML = "<span></span><small></small>";
      li.firstChild.textContent = item.label;
      li.lastChild.textContent = state === "sent" ? describe(data) : (data && data.detail) || t("failed");
      if (state === "sent" && data && data.url) {
        const a = document.createElement("a"); a.href = data.url; a.append(...li.childNodes); li.appendChild(a);
      }
      list.appendChild(li);
    });
    panel.hidden = list.children.length === 0;
    panel.querySelector("h2").hidden = items.length === 0;
  }

  function describe(data) {
    if (!data) return t("sent");
    if (data.number) return t("sent") + " · " + t("ticket") + " " + data.number + " · " + (data.state_label || "");
    return data.message || data.state_label || t("sent");
  }

  function setNet() {
    const el = document.getElementById("net");
    if (!el) return;
    el.textContent = navigator.onLine ? el.dataset.online : el.dataset.offline;
    el.classList.toggle("off", !navigator.onLine);
  }
  window.addEventListener("online", () => { setNet(); flush(); });
  window.addEventListener("offline", setNet);
  setNet();
  renderQueue().then(flush);
  setInterval(flush, 8000);

  // --- photos --------------------------------------------------------------------------------------------
  async function resize(file) {
    if (!file.type.startsWith("image/")) return file;
    let bitmap;
    try { bitmap = await createImageBitmap(file, {imageOrientation: "from-image"}); } catch (e) { return file; }
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close && bitmap.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
    return blob || file;
  }

  document.querySelectorAll("input[type=file][data-resize]").forEach((input) => {
    input.addEventListener("change", () => {
      const box = document.querySelector(`[data-thumbs-for="${input.id}"]`);
      if (!box) return;
      box.innerHTML = "";
      Array.from(input.files).forEach((f) => {
        const img = document.createElement("img");
        img.src = URL.createObjectURL(f);
        box.appendChild(img);
      });
    });
  });

  async function collect(form, submitter) {
    const fields = [];
    const files = [];
    // a copy: form.elements is live, and the page may add controls (the category suggestions) while a photo
    // is resized below; walking the live list would then visit the photo input again and send its photos twice
    for (const el of Array.from(form.elements)) {
      if (!el.name || el.disabled) continue;
      if (el.type === "file") {
        let n = 0;
        for (const f of el.files) {
          const blob = el.hasAttribute("data-resize") ? await resize(f) : f;
          files.push([el.name, blob, `photo-${++n}.jpg`]);
        }
      } else if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) fields.push([el.name, el.value]);
      } else if (el.tagName !== "BUTTON") {
        fields.push([el.name, el.value]);
      }
    }
    if (submitter && submitter.name) fields.push([submitter.name, submitter.value]);
    if (!fields.some(([k]) => k === "at")) fields.push(["at", new Date().toISOString()]);
    return {fields, files};
  }

  function showError(form, message) {
    const box = form.querySelector(".m-error");
    if (!box) return;
    box.textContent = message || "";
    box.hidden = !message;
  }
  function showOk(form, message) {
    const box = form.querySelector(".m-ok");
    if (box) { box.textContent = message; box.hidden = !message; }
  }

  // Forms marked data-queue-form are sent through the queue.
  document.querySelectorAll("form[data-queue-form]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.submitter;
      if (form.dataset.busy) return;
      form.dataset.busy = "1";
      form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
      showError(form, "");
      try {
        if (form.hasAttribute("data-locate")) await fillPosition(form);
        const {fields, files} = await collect(form, button);
        const text = form.querySelector("textarea");
        const summary = text && text.value.trim() ? "：" + text.value.trim().slice(0, 16) : "";
        const item = {key: newKey(), url: form.dataset.action, label: form.dataset.label + summary, fields, files, created: Date.now()};
        const result = await submit(item);
        if (result.queued) {
          showError(form, "");
          showOk(form, t("queued"));
          form.dataset.pendingKey = item.key;
          await renderQueue();
          const panel = document.getElementById("queue");
          if (panel && !panel.hidden) panel.scrollIntoView({block: "start"});
          form.reset();
          form.querySelectorAll(".m-thumbs").forEach((b) => { b.innerHTML = ""; });
          form.dispatchEvent(new CustomEvent("m:queued"));
        } else if (result.status >= 200 && result.status < 300) {
          form.dispatchEvent(new CustomEvent("m:sent", {detail: result.data}));
          if (form.dataset.done) {
            // the next page says what happened (m_after.js shows it once)
            try { sessionStorage.setItem("m-flash", (result.data && result.data.message) || describe(result.data)); } catch (e) { /* private mode */ }
            window.location.href = form.dataset.done;
            return;
          }
          showOk(form, describe(result.data));
        } else {
          showError(form, (result.data && result.data.detail) || t("failed"));
        }
      } finally {
        delete form.dataset.busy;
        form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      }
    });
  });

  // When a queued submission of a form still on screen goes out, its message shows the server's answer.
  document.addEventListener("queue:sent", (event) => {
    document.querySelectorAll("form[data-queue-form]").forEach((form) => {
      if (form.dataset.pendingKey === event.detail.item.key) {
        delete form.dataset.pendingKey;
        showOk(form, describe(event.detail.data));
      }
    });
  });

  // --- location ------------------------------------------------------------------------------------------
  function position(options) {
    return new Promise((resolve) => {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition((p) => resolve(p), () => resolve(null),
        {enableHighAccuracy: true, timeout: 10000, maximumAge: 30000, ...(options || {})});
    });
  }

  async function fillPosition(form) {
    const status = form.querySelector("[data-loc-status]");
    if (status) status.textContent = t("locating");
    const p = await position();
    const set = (name, v) => { const el = form.elements[name]; if (el) el.value = v; };
    if (p) {
      set("lon", p.coords.longitude.toFixed(7));
      set("lat", p.coords.latitude.toFixed(7));
      set("accuracy", Math.round(p.coords.accuracy));
      if (status) status.textContent = `${p.coords.longitude.toFixed(5)}, ${p.coords.latitude.toFixed(5)} (${t("accuracy")} ${Math.round(p.coords.accuracy)} m)`;
    } else if (status) {
      status.textContent = t("nolocation");
    }
    set("at", new Date().toISOString());
  }

  function gridLayer(map) {
    const el = document.getElementById("grid-feature");
    const feature = el && JSON.parse(el.textContent);
    if (!feature) return null;
    const layer = L.geoJSON(feature, {style: {color: "#0b5cab", weight: 2, fillOpacity: 0.06}}).addTo(map);
    map.fitBounds(layer.getBounds());
    return layer;
  }

  function makeMap(el) {
    const map = L.map(el, {zoomControl: true, attributionControl: false});
    if (body.dataset.tiles) L.tileLayer(body.dataset.tiles, {maxZoom: 19}).addTo(map);
    if (!gridLayer(map)) map.setView([32.0, 120.3], 12);
    return map;
  }

  // --- report form ---------------------------------------------------------------------------------------
  const reportForm = document.getElementById("report-form");
  if (reportForm) {
    const categories = JSON.parse(document.getElementById("categories").textContent || "[]");
    const search = document.getElementById("category-search");
    const results = document.getElementById("category-results");
    const chosen = document.getElementById("category-chosen");
    const hidden = document.getElementById("category");
    const renderChoices = () => {
      const q = search.value.trim();
      results.innerHTML = "";
      if (!q) return;
      categories.filter((c) => (c.name + c.group).includes(q)).slice(0, 8).forEach((c) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.tabIndex = 0;
        li.dataset.id = c.id;
        li.innerHTML = "<span></span><small></small>";
        li.firstChild.textContent = c.name;
        li.lastChild.textContent = c.group + " · " + c.kind;
        const pick = () => {
          hidden.value = c.id;
          chosen.textContent = c.group + " › " + c.name;
          chosen.hidden = false;
          search.value = "";
          results.innerHTML = "";
        };
        li.addEventListener("click", pick);
        li.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); pick(); } });
        results.appendChild(li);
      });
    };
    search.addEventListener("input", renderChoices);

    const selfBox = document.getElementById("self-resolve-box");
    document.getElementById("self-resolved").addEventListener("change", (e) => { selfBox.hidden = !e.target.checked; });

    const map = makeMap(document.getElementById("map"));
    const status = document.getElementById("loc-status");
    const gridInfo = document.getElementById("loc-grid");
    let pin = null;
    const place = (latlng, accuracy) => {
      document.getElementById("lon").value = latlng.lng.toFixed(7);
      document.getElementById("lat").value = latlng.lat.toFixed(7);
      document.getElementById("accuracy").value = accuracy == null ? "" : Math.round(accuracy);
      if (!pin) {
        pin = L.marker(latlng, {draggable: true}).addTo(map);
        pin.on("dragend", () => place(pin.getLatLng(), null));
      } else {
        pin.setLatLng(latlng);
      }
      if (navigator.onLine) {
        fetch(`${body.dataset.scope}api/locate?lon=${latlng.lng}&lat=${latlng.lat}`, {credentials: "same-origin"})
          .then((r) => r.json()).then((d) => { gridInfo.textContent = d.message || d.grid_name || ""; }).catch(() => null);
      }
    };
    map.on("click", (e) => { place(e.latlng, null); status.textContent = t("located"); showError(reportForm, ""); });
    status.textContent = t("locating");
    position().then((p) => {
      if (p) {
        const ll = L.latLng(p.coords.latitude, p.coords.longitude);
        place(ll, p.coords.accuracy);
        map.setView(ll, Math.max(map.getZoom(), 16));
        status.textContent = t("located");
      } else {
        status.textContent = t("nolocation");
      }
    });
    reportForm.addEventListener("m:queued", () => {
      chosen.hidden = true;
      selfBox.hidden = true;
    });
  }

  // --- patrol --------------------------------------------------------------------------------------------
  const patrolBox = document.getElementById("patrol");
  if (patrolBox) {
    const map = makeMap(document.getElementById("map"));
    const trackEl = document.getElementById("track");
    const track = trackEl && JSON.parse(trackEl.textContent);
    const line = L.polyline((track ? track.geometry.coordinates : []).map(([x, y]) => [y, x]), {color: "#d9480f", weight: 4}).addTo(map);
    const startBtn = document.getElementById("patrol-start");
    const stopBtn = document.getElementById("patrol-stop");
    const err = patrolBox.querySelector(".m-error");
    let patrolId = patrolBox.dataset.patrol;
    let watch = null;
    let buffer = [];
    let last = 0;

    const clock = (seconds) => {
      const el = document.getElementById("f-minutes");
      el.dataset.seconds = seconds;
      el.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    };
    clock(Number(document.getElementById("f-minutes").dataset.seconds || 0));
    const show = (d) => {
      if (!d) return;
      clock(Math.round(d.minutes * 60));
      document.getElementById("f-distance").textContent = d.distance_m;
      document.getElementById("f-inside").textContent = d.inside_distance_m;
      document.getElementById("f-points").textContent = d.points;
    };
    const post = async (url, fields, label) => {
      const item = {key: newKey(), url, label, fields: [...fields, ["at", new Date().toISOString()]], files: [], created: Date.now()};
      const r = await submit(item);
      if (!r.queued && r.status >= 400) { err.textContent = (r.data && r.data.detail) || t("failed"); err.hidden = false; }
      return r;
    };
    const sendPoints = async () => {
      if (!patrolId || buffer.length === 0) return;
      const batch = buffer; buffer = [];
      const r = await post(`${patrolBox.dataset.base}${patrolId}/points`, [["points", JSON.stringify(batch)]], t("track"));
      if (r.data && r.data.id) show(r.data);
    };
    const startWatching = () => {
      if (!navigator.geolocation || watch !== null) return;
      watch = navigator.geolocation.watchPosition((p) => {
        const now = Date.now();
        if (now - last < 3000) return;
        last = now;
        buffer.push([p.coords.longitude, p.coords.latitude, new Date(p.timestamp || now).toISOString(), p.coords.accuracy]);
        line.addLatLng([p.coords.latitude, p.coords.longitude]);
        if (buffer.length >= 5) sendPoints();
      }, () => null, {enableHighAccuracy: true, maximumAge: 0});
    };
    setInterval(sendPoints, 15000);
    setInterval(() => { if (patrolId) clock(Number(document.getElementById("f-minutes").dataset.seconds) + 1); }, 1000);
    window.addEventListener("pagehide", sendPoints);
    if (patrolId) startWatching();

    // Keep the screen (and so this page and its track) alive while patrolling, where the browser allows it.
    let wakeLock = null;
    const holdScreen = () => {
      if ("wakeLock" in navigator && !wakeLock) navigator.wakeLock.request("screen").then((l) => { wakeLock = l; }).catch(() => null);
    };
    const releaseScreen = () => { if (wakeLock) wakeLock.release().catch(() => null); wakeLock = null; };
    const started = (id) => {
      patrolId = String(id);
      startBtn.hidden = true; stopBtn.hidden = false;
      document.querySelectorAll("[data-item]").forEach((c) => { c.disabled = false; });
      startWatching();
      holdScreen();
      sendPoints();
    };
    if (patrolId) holdScreen();
    let startKey = null;
    // Started without signal: points are kept from now on and go out once the server has answered.
    document.addEventListener("queue:sent", (event) => {
      if (startKey && event.detail.item.key === startKey && event.detail.data && event.detail.data.id) {
        startKey = null;
        started(event.detail.data.id);
      }
    });
    startBtn.addEventListener("click", async () => {
      err.hidden = true;
      const item = {key: newKey(), url: patrolBox.dataset.start, label: startBtn.textContent.trim(),
                    fields: [["at", new Date().toISOString()]], files: [], created: Date.now()};
      const r = await submit(item);
      if (r.data && r.data.id) {
        started(r.data.id);
      } else if (r.queued) {
        startKey = item.key;
        startBtn.hidden = true;
        startWatching();
      } else {
        err.textContent = (r.data && r.data.detail) || t("failed");
        err.hidden = false;
      }
    });
    stopBtn.addEventListener("click", async () => {
      if (!patrolId) return;
      const p = await position({maximumAge: 0});
      if (p) buffer.push([p.coords.longitude, p.coords.latitude, new Date().toISOString(), p.coords.accuracy]);
      await sendPoints();
      const r = await post(`${patrolBox.dataset.base}${patrolId}/stop`, [], stopBtn.textContent.trim());
      if (r.data && r.data.state === "done") {
        show(r.data);
        if (watch !== null) navigator.geolocation.clearWatch(watch);
        watch = null; patrolId = "";
        releaseScreen();
        stopBtn.hidden = true; startBtn.hidden = false;
        document.querySelectorAll("[data-item]").forEach((c) => { c.disabled = true; });
      }
    });
    document.querySelectorAll("[data-item]").forEach((box) => {
      box.addEventListener("change", () => {
        if (box.checked && patrolId) post(`${patrolBox.dataset.base}${patrolId}/check`, [["item", box.dataset.item]], box.parentElement.textContent.trim());
      });
    });
  }

  // Test hook: lets a browser test wait for the queue to drain.
  window.ccGridQueue = {all: queueAll, flush};
})();
