/* The checklist page: save every answer in the background, keep unsent answers on the
 * phone, resolve conflicts with other team members openly, upload photos.
 *
 * Without this script the page is a plain form that posts everything on "Save".
 */
"use strict";

(() => {
  const form = document.getElementById("checklist");
  if (!form) return;
  const config = JSON.parse(document.getElementById("checklist-config").textContent);
  const msg = config.messages;
  const api = form.dataset.api;
  const csrf = form.elements.csrf_token.value;
  const versionInput = document.getElementById("version");
  const stateEl = document.getElementById("save-state");
  const errorEl = document.getElementById("sync-error");
  const progressEl = document.getElementById("progress");
  const storeKey = `inspection-${form.dataset.id}-user-${form.dataset.user}-pending`;
  const TEXT_FIELDS = ["findings", "assessment", "requests", "remediation_due", "unit_comments"];
  const AT_POST = ["present", "late"];

  let version = Number(versionInput.value);
  const base = new Map(); // field name -> value the server has, as far as we know
  const pending = new Map(); // field name -> {value, base}: changed here, not yet acknowledged
  let inflight = null;
  let timer = null;
  let retryDelay = 2000;

  /* ---- reading and writing fields ---- */

  function tracked(name) {
    return /^(u_\d+(_note|_number)?|p_\d+_(att|note|\d+))$/.test(name) || TEXT_FIELDS.includes(name);
  }

  function valueOf(name) {
    const el = form.elements[name];
    if (!el) return "";
    if (el instanceof RadioNodeList) return el.value; // the checked radio's value, or ""
    if (el.type === "radio") return el.checked ? el.value : "";
    return el.value;
  }

  function setValue(name, value) {
    const el = form.elements[name];
    if (!el) return;
    if (el instanceof RadioNodeList || el.type === "radio") {
      for (const radio of form.querySelectorAll(`input[name="${name}"]`)) radio.checked = radio.value === value;
    } else {
      el.value = value;
    }
    const person = name.match(/^p_(\d+)_att$/);
    if (person) document.getElementById(`p-${person[1]}`).dataset.att = value;
  }

  function fieldNames() {
    return [...new Set([...form.elements].map((el) => el.name).filter(tracked))];
  }

  // One pass over the form (a 40-person page has ~250 fields and ~700 radios).
  for (const el of form.elements) {
    if (!el.name || !tracked(el.name)) continue;
    if (el.type !== "radio") base.set(el.name, el.value);
    else if (el.checked) base.set(el.name, el.value);
    else if (!base.has(el.name)) base.set(el.name, "");
  }

  /* ---- the request body the API takes ---- */

  function body(entries) {
    const out = { version, unit_items: [], people: [] };
    const units = new Map();
    const people = new Map();
    for (const [name, value] of entries) {
      let m = name.match(/^u_(\d+)(?:_(note|number))?$/);
      if (m) {
        const code = config.codes[m[1]];
        if (!units.has(code)) units.set(code, { code });
        const field = m[2] || "outcome";
        units.get(code)[field] = field === "note" ? value : value || null;
        continue;
      }
      m = name.match(/^p_(\d+)_(att|note|\d+)$/);
      if (m) {
        const id = Number(m[1]);
        if (!people.has(id)) people.set(id, { person_id: id, items: [] });
        const person = people.get(id);
        if (m[2] === "att") person.attendance = value || null;
        else if (m[2] === "note") person.note = value;
        else person.items.push({ code: config.codes[m[2]], outcome: value || null });
        continue;
      }
      out[name] = name === "remediation_due" ? value || null : value;
    }
    out.unit_items = [...units.values()];
    out.people = [...people.values()];
    return out;
  }

  /* ---- state shown to the inspector ---- */

  function showState(text, kind) {
    stateEl.textContent = text;
    stateEl.className = kind || "muted";
  }

  function showError(text) {
    errorEl.textContent = text;
    errorEl.hidden = !text;
  }

  function savedNow() {
    const time = new Date().toLocaleTimeString(config.locale, { hour: "2-digit", minute: "2-digit" });
    showState(msg.saved_at.replace("{time}", time), "ok");
  }

  function persist() {
    const entries = [...pending.entries()];
    if (entries.length) localStorage.setItem(storeKey, JSON.stringify(entries));
    else localStorage.removeItem(storeKey);
    if (entries.length && !inflight) showState(msg.waiting.replace("{n}", entries.length), "warn");
  }

  function updateProgress() {
    let answered = 0;
    let total = 0;
    for (const item of form.querySelectorAll(".item fieldset.outcome")) {
      total += 1;
      if (item.querySelector("input:checked")) answered += 1;
    }
    for (const card of form.querySelectorAll(".person")) {
      total += 1;
      const att = card.dataset.att;
      if (!att) continue;
      answered += 1;
      if (!AT_POST.includes(att)) continue;
      for (const check of card.querySelectorAll(".checks fieldset")) {
        total += 1;
        if (check.querySelector("input:checked")) answered += 1;
      }
    }
    progressEl.textContent = `${answered}/${total}`;
  }

  /* ---- saving ---- */

  function remember(name) {
    const value = valueOf(name);
    const known = pending.get(name);
    const start = known ? known.base : base.get(name);
    if (value === start) pending.delete(name);
    else pending.set(name, { value, base: start });
    persist();
  }

  function schedule(delay) {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }

  async function request(method, url, payload) {
    const options = { method, headers: { "X-CSRFToken": csrf, Accept: "application/json" }, credentials: "same-origin" };
    if (payload instanceof FormData) options.body = payload;
    else if (payload) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const response = await fetch(url, options);
    let data = {};
    try { data = await response.json(); } catch (_) { /* an HTML error page */ }
    return { status: response.status, data };
  }

  function errorText(data, fallback) {
    const error = data && data.error;
    if (!error) return fallback;
    const fields = error.fields ? Object.values(error.fields).join(" ") : "";
    return `${error.message} ${fields}`.trim();
  }

  async function flush() {
    if (inflight || !pending.size) return inflight;
    const sent = [...pending.entries()].map(([name, entry]) => [name, entry.value]);
    showState(msg.saving, "muted");
    inflight = (async () => {
      let result;
      try {
        result = await request("PUT", `${api}/results`, body(sent));
      } catch (_) {
        result = { status: 0, data: {} };
      }
      inflight = null;
      if (result.status === 200) {
        version = result.data.version;
        versionInput.value = version;
        for (const [name, value] of sent) {
          base.set(name, value);
          if (pending.has(name) && pending.get(name).value === value) pending.delete(name);
        }
        persist();
        retryDelay = 2000;
        if (pending.size) schedule(300);
        else { savedNow(); showError(""); }
      } else if (result.status === 409) {
        await reconcile(msg.conflict);
      } else if (result.status === 422 || result.status === 400) {
        // Refused answers are shown, then put back to what the server has.
        for (const [name] of sent) {
          pending.delete(name);
          setValue(name, base.get(name));
        }
        persist();
        updateProgress();
        showError(errorText(result.data, msg.invalid));
        showState(msg.not_saved, "bad");
      } else if (result.status === 401 || result.status === 403 || result.status === 404) {
        showError(msg.logged_out);
        showState(msg.not_saved, "bad");
      } else {
        showState(msg.offline, "warn");
        schedule(retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30000);
      }
    })();
    return inflight;
  }

  /* The server moved on: take its answers, keep ours where nobody else touched the field. */
  async function reconcile(message) {
    let result;
    try {
      result = await request("GET", api);
    } catch (_) {
      schedule(retryDelay);
      return;
    }
    if (result.status !== 200) return;
    const server = serverValues(result.data);
    const conflicts = [];
    for (const [name, entry] of [...pending.entries()]) {
      const theirs = server.has(name) ? server.get(name) : "";
      if (theirs !== entry.base && theirs !== entry.value) {
        conflicts.push(labelOf(name));
        pending.delete(name);
      }
    }
    for (const name of fieldNames()) {
      const value = server.has(name) ? server.get(name) : "";
      base.set(name, value);
      if (!pending.has(name)) setValue(name, value);
      else pending.get(name).base = value;
    }
    version = result.data.version;
    versionInput.value = version;
    persist();
    updateProgress();
    showError(conflicts.length ? `${message} ${msg.conflict_fields} ${conflicts.join("; ")}` : "");
    if (pending.size) schedule(100);
    else savedNow();
  }

  function labelOf(name) {
    const el = form.querySelector(`[name="${name}"]`);
    const box = el && (el.closest(".person") || el.closest(".item"));
    if (box && box.classList.contains("person")) return box.dataset.search;
    const legend = el && el.closest("fieldset") && el.closest("fieldset").querySelector("legend");
    return legend ? legend.textContent.trim() : name;
  }

  function serverValues(record) {
    const values = new Map();
    const ids = config.ids;
    for (const row of record.unit_items || []) {
      const id = ids[row.code];
      values.set(`u_${id}`, row.outcome || "");
      values.set(`u_${id}_note`, row.note || "");
      values.set(`u_${id}_number`, row.number == null ? "" : String(row.number));
    }
    for (const person of record.people || []) {
      values.set(`p_${person.person_id}_att`, person.attendance || "");
      values.set(`p_${person.person_id}_note`, person.note || "");
      for (const row of person.items) values.set(`p_${person.person_id}_${ids[row.code]}`, row.outcome || "");
    }
    for (const name of TEXT_FIELDS) values.set(name, record[name] || "");
    return values;
  }

  /* ---- events ---- */

  form.addEventListener("change", (event) => {
    const name = event.target.name;
    if (!tracked(name)) return;
    setValue(name, valueOf(name)); // keeps data-att in step
    remember(name);
    updateProgress();
    schedule(event.target.type === "radio" ? 150 : 600);
  });

  form.addEventListener("input", (event) => {
    if (event.target.tagName !== "TEXTAREA") return;
    remember(event.target.name);
    schedule(1200);
  });

  function bulk(selector, value) {
    for (const group of form.querySelectorAll(selector)) {
      if (group.querySelector("input:checked")) continue;
      const radio = group.querySelector(`input[value="${value}"]`);
      if (!radio) continue;
      setValue(radio.name, value);
      remember(radio.name);
    }
    updateProgress();
    schedule(100);
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-bulk]");
    if (!button) return;
    const action = button.dataset.bulk;
    if (action === "unit-pass") bulk(".item fieldset.outcome", "pass");
    if (action === "all-present") bulk(".person:not([hidden]) fieldset.att", "present");
    if (action === "people-pass") {
      bulk(AT_POST.map((a) => `.person[data-att="${a}"]:not([hidden]) .checks fieldset`).join(","), "pass");
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const toSummary = event.submitter && event.submitter.value === "summary";
    await flush();
    if (pending.size) {
      showError(msg.unsent);
      return;
    }
    if (toSummary) window.location.href = config.summary_url;
  });

  window.addEventListener("online", () => flush());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });

  /* ---- photos ---- */

  form.addEventListener("change", async (event) => {
    const input = event.target;
    if (!input.dataset.photoTarget || !input.files.length) return;
    const [kind, ident] = input.dataset.photoTarget.split(":");
    const strip = input.closest(".photos");
    for (const file of input.files) {
      const data = new FormData();
      data.append("file", file);
      data.append(kind === "item" ? "item_code" : "person_id", ident);
      if (file.lastModified) data.append("captured_at", new Date(file.lastModified).toISOString());
      showState(msg.uploading, "muted");
      let result;
      try {
        result = await request("POST", `${api}/photos`, data);
      } catch (_) {
        result = { status: 0, data: {} };
      }
      if (result.status === 201) {
        const link = document.createElement("a");
        link.href = result.data.url;
        link.target = "_blank";
        const img = document.createElement("img");
        img.src = result.data.thumb_url;
        img.alt = msg.photo;
        img.width = 64;
        img.height = 64;
        link.append(img);
        strip.insertBefore(link, input.closest("label"));
        savedNow();
        showError("");
      } else {
        showError(errorText(result.data, msg.photo_failed));
        showState(msg.not_saved, "bad");
      }
    }
    input.value = "";
  });

  /* ---- answers left on this phone by a closed tab or a dead battery ---- */

  function restore() {
    let stored = [];
    try { stored = JSON.parse(localStorage.getItem(storeKey) || "[]"); } catch (_) { stored = []; }
    const conflicts = [];
    for (const [name, entry] of stored) {
      if (!tracked(name) || !form.elements[name]) continue;
      if (base.get(name) !== entry.base && base.get(name) !== entry.value) {
        conflicts.push(labelOf(name));
        continue;
      }
      setValue(name, entry.value);
      pending.set(name, { value: entry.value, base: base.get(name) });
    }
    if (conflicts.length) showError(`${msg.conflict} ${msg.conflict_fields} ${conflicts.join("; ")}`);
    persist();
    updateProgress();
    if (pending.size) schedule(0);
  }

  restore();
})();
