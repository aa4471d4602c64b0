// What the phone shows after a step: the message of a step that moved to another page (a verification, a
// report), and a new check-in at the top of the list without reloading the page.
(function () {
  "use strict";
  const flash = document.getElementById("m-flash");
  let text = null;
  try { text = sessionStorage.getItem("m-flash"); sessionStorage.removeItem("m-flash"); } catch (e) { /* private mode */ }
  if (flash && text) { flash.textContent = text; flash.hidden = false; }

  const list = document.getElementById("checkins");
  const form = document.getElementById("checkin-form");
  function add(data) {
    if (!list || !data || !data.at) return;
    if (data.id && list.querySelector(`[data-id="${data.id}"]`)) return; // sent once, announced twice (form and queue)
    const empty = list.querySelector(".m-empty");
    if (empty) empty.remove();
    const li = document.createElement("li");
    li.className = "m-new";
    if (data.id) li.dataset.id = data.id;
    const when = document.createElement("span");
    when.textContent = data.at.slice(5);
    const where = document.createElement("small");
    where.className = data.inside_grid ? "ok" : "warn";
    where.textContent = data.inside_grid ? list.dataset.inside : data.message;
    li.append(when, where);
    list.prepend(li);
  }
  if (form) form.addEventListener("m:sent", (e) => add(e.detail));
  document.addEventListener("queue:sent", (e) => { if (form && e.detail && e.detail.item && e.detail.item.url === form.dataset.action) add(e.detail.data); });
})();
