// The department's reply: the chosen photos show as previews before they are sent.
(function () {
  "use strict";
  document.querySelectorAll("[data-previews-for]").forEach((box) => {
    const input = document.getElementById(box.dataset.previewsFor);
    if (!input) return;
    input.addEventListener("change", () => {
      box.querySelectorAll("img").forEach((img) => URL.revokeObjectURL(img.src));
      box.replaceChildren(...Array.from(input.files).map((file) => {
        const img = document.createElement("img");
        img.src = URL.createObjectURL(file);
        img.alt = file.name;
        return img;
      }));
    });
  });
})();
