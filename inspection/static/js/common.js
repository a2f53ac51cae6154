/* Shared helpers for the inspector's pages: the checklist's field names, and list filtering
   that ignores Vietnamese diacritics. */
"use strict";

/* The checklist page's field names: the one mirror of inspection/field_names.py
   (tests/e2e/test_field_names_phone.py holds the two together). */
const fieldName = {
  unit: (item, part) => (part ? `u_${item}_${part}` : `u_${item}`),
  attendance: (person) => `p_${person}_att`,
  arrival: (person) => `p_${person}_arrived`,
  personNote: (person) => `p_${person}_note`,
  personItem: (person, item, part) => (part ? `p_${person}_${item}_${part}` : `p_${person}_${item}`),
};

/* What a field name stands for: {unit, part} or {person, what: "att"|"arrived"|"note"|"item", item, part};
   null for any other field (the texts, the version). */
function parseField(name) {
  let m = /^u_(\d+)(?:_(note|number|text))?$/.exec(name);
  if (m) return { unit: m[1], part: m[2] || "" };
  m = /^p_(\d+)_(att|arrived|note)$/.exec(name);
  if (m) return { person: m[1], what: m[2] };
  m = /^p_(\d+)_(\d+)(?:_(note))?$/.exec(name);
  if (m) return { person: m[1], what: "item", item: m[2], part: m[3] || "" };
  return null;
}

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
