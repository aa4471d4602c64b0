// Category suggestions (智能分类) while someone types the complaint. A box with data-suggest-api reads the
// texts named in data-suggest-sources; with data-suggest-select it pre-selects the best class in that <select>
// until the person picks one by hand and offers the two runners-up as buttons; with data-suggest-hidden (the
// phone form) it offers all three as buttons that fill the hidden category field.
(function () {
  "use strict";
  document.querySelectorAll("[data-suggest-api]").forEach(function (box) {
    const byId = (id) => (id ? document.getElementById(id) : null);
    const sources = (box.dataset.suggestSources || "").split(",").map(byId).filter(Boolean);
    const select = byId(box.dataset.suggestSelect);
    const hidden = byId(box.dataset.suggestHidden);
    const chosen = byId(box.dataset.suggestChosen);
    const label = box.dataset.suggestLabel || "";
    let manual = false;
    let autoValue = null; // what this script last put in the select: any other value there was the person's choice
    let asked = "";
    let timer = null;
    let controller = null;
    if (select) select.addEventListener("change", () => { if (select.value !== autoValue) manual = true; });

    function pick(s, byHand) {
      if (select) {
        select.value = String(s.id);
        autoValue = byHand ? null : select.value;
        if (byHand) manual = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      if (hidden) {
        hidden.value = String(s.id);
        if (chosen) { chosen.textContent = (s.major ? s.major + " › " : "") + s.name; chosen.hidden = false; }
      }
    }
    function button(s) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "tk-suggestion";
      b.dataset.code = s.code;
      b.textContent = s.name + " " + (s.score < 0.01 ? "<1" : Math.round(s.score * 100)) + "%";
      if (s.department) b.title = s.department.name;
      b.addEventListener("click", () => pick(s, true));
      return b;
    }
    function render(list) {
      box.textContent = "";
      const offered = select ? list.slice(1) : list;
      if (select && list.length && !manual) pick(list[0], false);
      if (!offered.length) { box.hidden = true; return; }
      const span = document.createElement("span");
      span.className = "tk-suggest-label";
      span.textContent = label;
      box.append(span, ...offered.map(button));
      box.hidden = false;
    }
    async function ask() {
      const text = sources.map((s) => s.value.trim()).filter(Boolean).join("\n").slice(0, 4000);
      if (text === asked) return;
      asked = text;
      if (!text) { render([]); return; }
      if (controller) controller.abort();
      controller = new AbortController();
      try {
        const r = await fetch(box.dataset.suggestApi + "?" + new URLSearchParams({ text }), {
          headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal,
        });
        if (!r.ok) return;
        render((await r.json()).suggestions || []);
      } catch (e) { /* offline or superseded: the search below still works */ }
    }
    sources.forEach((s) => s.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 350); }));
  });
})();
