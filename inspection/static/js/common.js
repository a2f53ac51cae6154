/* Shared helpers for the inspector's pages: list filtering that ignores Vietnamese diacritics. */
"use strict";

function plainText(text) {
  return (text || "")
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/đ/gi, "d")
    .toLowerCase();
}

document.addEventListener("input", (event) => {
  const box = event.target.closest("[data-filter]");
  if (!box) return;
  const words = plainText(box.value).split(/\s+/).filter(Boolean);
  for (const el of document.querySelectorAll(box.dataset.filter)) {
    const text = plainText(el.dataset.search || el.textContent);
    el.hidden = !words.every((w) => text.includes(w));
  }
});

for (const el of document.querySelectorAll("[data-needs-script]")) el.hidden = false;
