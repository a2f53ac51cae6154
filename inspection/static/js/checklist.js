/* The checklist page: every answer goes to the phone's storage first (offline.js), then
 * to the server; conflicts and refusals are shown with the server's answer until the
 * inspector decides; photos wait on the phone like answers do.
 *
 * The same page serves a visit on the server (people named by person id) and the blank
 * checklist of a unit for a visit started offline (people named by staff id, the visit
 * named by ?client=<client_id>). Without this script the first is a plain form.
 */
"use strict";

(() => {
  const form = document.getElementById("checklist");
  if (!form || typeof Offline === "undefined") return;
  const config = JSON.parse(document.getElementById("checklist-config").textContent);
  const msg = config.messages;
  const versionInput = document.getElementById("version");
  const stateEl = document.getElementById("save-state");
  const errorEl = document.getElementById("sync-error");
  const progressEl = document.getElementById("progress");
  const conflictsEl = document.getElementById("conflicts");
  const TEXT_FIELDS = ["findings", "assessment", "requests", "remediation_due", "unit_comments"];
  const AT_POST = ["present", "late"];
  const draft = form.dataset.mode === "staff";
  const clientId = new URLSearchParams(location.search).get("client");
  const key = draft ? `c${clientId}` : `v${form.dataset.id}`;
  const timers = new Map();
  // Changed on this page and journaled, not yet in the phone's storage: a redraw from the
  // storage must not put the old value back meanwhile (the tap would be lost).
  const unstored = new Set();
  let record = null;
  let current = new Map(); // what the form shows now, by field name: no DOM reads to compare
  let savedAtLoad = null; // the page says "saved at …" only for saves made since it opened
  // A change made before load() has put the phone's record in step with the page is
  // stored after that (stored first, the page's values would be rebased over it).
  let markLoaded;
  const loaded = new Promise((resolve) => { markLoaded = resolve; });

  /* ---- reading and writing fields ---- */

  function tracked(name) {
    return Boolean(parseField(name)) || TEXT_FIELDS.includes(name);
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
    current.set(name, value);
    if (el instanceof RadioNodeList || el.type === "radio") {
      for (const radio of form.querySelectorAll(`input[name="${name}"]`)) radio.checked = radio.value === value;
    } else if (el.value !== value) {
      el.value = value;
    }
    const f = parseField(name);
    if (f && f.what === "att") document.getElementById(`p-${f.person}`).dataset.att = value;
  }

  /* The page's own values, in one pass (a 40-person page has ~700 radios); with `sent`,
   * what the server sent: the fields' HTML defaults, whatever was tapped or typed before
   * this script ran (the form has autocomplete="off": no browser puts old values back). */
  function pageValues(elements = form.elements, sent = false) {
    const values = {};
    for (const el of elements) {
      if (!el.name || !tracked(el.name)) continue;
      if (el.type !== "radio") values[el.name] = sent ? defaultOf(el) : el.value;
      else if (sent ? el.defaultChecked : el.checked) values[el.name] = el.value;
      else if (!(el.name in values)) values[el.name] = "";
    }
    return values;
  }

  /* A field's HTML default as its value reads (a time or number input cleans it up). */
  function defaultOf(el) {
    if (el.tagName !== "INPUT") return el.defaultValue ?? el.value;
    const probe = document.createElement("input");
    probe.type = el.type;
    probe.value = el.defaultValue;
    return probe.value;
  }

  function labelOf(name) {
    const el = form.querySelector(`[name="${name}"]`);
    const box = el && (el.closest(".person") || el.closest(".item"));
    const legend = el && el.closest("fieldset") && el.closest("fieldset").querySelector("legend");
    const field = el && el.id && form.querySelector(`label[for="${el.id}"]`);
    const what = legend ? legend.textContent.trim() : field ? field.textContent.trim() : name;
    if (box && box.classList.contains("person")) {
      const f = parseField(name);
      return f && f.what === "att" ? box.dataset.search : `${box.dataset.search}: ${what}`;
    }
    return what;
  }

  function valueText(name, value) {
    if (value === "" || value == null) return msg.empty_value;
    const radio = form.querySelector(`input[name="${name}"][value="${CSS.escape(value)}"]`);
    const label = radio && form.querySelector(`label[for="${radio.id}"]`);
    return label ? label.title || label.textContent.trim() : value;
  }

  /* The field holding a unit item's answer: its outcome, a choice or text, or a number. */
  function answerName(id) {
    return [fieldName.unit(id), fieldName.unit(id, "text"), fieldName.unit(id, "number")].find((n) => form.elements[n]);
  }

  /* Progress counts each asked required unit item and each person, who is done once
   * marked (and, at their post, every required check answered): the total does not jump
   * as people are marked (results.summary counts the same way). */
  function updateProgress() {
    let answered = 0;
    let total = 0;
    for (const card of form.querySelectorAll(".item[data-required]:not([hidden])")) {
      total += 1;
      if (current.get(answerName(card.id.slice(2)))) answered += 1;
    }
    for (const card of form.querySelectorAll(".person")) {
      total += 1;
      const att = card.dataset.att;
      if (!att) continue;
      if (!AT_POST.includes(att)) answered += 1;
      else if ([...card.querySelectorAll(".checks fieldset:not(.optional)")].every((f) => f.querySelector("input:checked"))) answered += 1;
    }
    progressEl.textContent = `${answered}/${total}`;
  }

  /* Items asked only after another answer: shown while their trigger (asked itself, and
   * earlier on the page) has one of the answers they name. Hiding one clears its answers,
   * which the server would refuse for an item not asked; the names cleared are returned
   * for the caller to send. */
  const conditional = [...form.querySelectorAll(".item[data-ask-when]")];

  function applyConditions() {
    const cleared = [];
    for (const card of conditional) {
      const [code, values] = card.dataset.askWhen.split("=");
      const trigger = document.getElementById(`u-${config.ids[code]}`);
      const answer = trigger && !trigger.hidden ? current.get(answerName(config.ids[code])) || "" : "";
      const show = values.split("|").includes(answer);
      if (card.hidden !== show) continue;
      card.hidden = !show;
      if (show) continue;
      for (const el of card.querySelectorAll("[name]")) {
        if (!tracked(el.name) || !current.get(el.name) || cleared.includes(el.name)) continue;
        setValue(el.name, "");
        cleared.push(el.name);
      }
    }
    return cleared;
  }

  /* ---- the visit as the phone keeps it ---- */

  /* The person cards' check rows come inside <noscript> (the template says why): build
   * them a couple of cards per task, letting the page draw in between, each card's sent
   * values added as its rows are built. A tap or a key before the last card is built
   * builds the rest at once and goes through (the bulk buttons need every card's rows). */
  const serverValues = pageValues(form.elements, true); // the fields outside <noscript>
  const early = ["pointerdown", "click", "keydown", "focusin"];

  async function buildChecks() {
    const boxes = [...form.querySelectorAll(".checks > noscript")];
    let next = 0;
    const build = (upTo) => {
      for (; next < Math.min(upTo, boxes.length); next += 1) {
        const rows = document.createElement("template");
        rows.innerHTML = boxes[next].textContent;
        Object.assign(serverValues, pageValues(rows.content.querySelectorAll("[name]"), true));
        boxes[next].replaceWith(rows.content);
      }
    };
    const all = () => build(boxes.length);
    for (const type of early) form.addEventListener(type, all, true);
    while (next < boxes.length) {
      build(next + 2);
      await nextFrame();
    }
    for (const type of early) form.removeEventListener(type, all, true);
  }

  /* After the next frame is drawn; a hidden tab draws none, so not later than 50 ms. */
  function nextFrame() {
    return new Promise((resolve) => {
      const late = setTimeout(resolve, 50);
      requestAnimationFrame(() => setTimeout(() => {
        clearTimeout(late);
        resolve();
      }));
    });
  }

  async function load() {
    await buildChecks();
    current = new Map(Object.entries(pageValues())); // with any tap made meanwhile
    for (const [name, value] of current) {
      // Tapped or typed before this script ran: a change like any other.
      if (value === (serverValues[name] ?? "") || unstored.has(name)) continue;
      setValue(name, value);
      later(name, 150);
    }
    const pageVersion = Number(versionInput.value) || 0;
    if (draft && !(clientId && (await Offline.getVisit(key)))) {
      // No visit of that name on this phone (storage cleared, or a bare address).
      document.getElementById("draft-missing").hidden = false;
      form.hidden = true;
      markLoaded();
      return;
    }
    record = await Offline.updateVisit(key, (r) => {
      identify(r);
      r.url = location.pathname + location.search;
      if (!draft && (r.version == null || pageVersion >= r.version)) {
        // A fresh page shows what the server has: rebase what waits here on it.
        Offline.rebase(r, new Map(Object.entries(serverValues)));
        r.version = pageVersion;
      }
    }, { user: Offline.USER });
    markLoaded();
    savedAtLoad = record.saved_at;
    render();
    await showPhotos();
    form.dataset.ready = "1"; // what waits on the phone is on the page
    if (draft && record.id && navigator.onLine && !Offline.busy(record) && !(await opsOf()).length) {
      location.replace(`/inspector/visits/${record.id}`);
    }
  }

  /* What the sender needs to turn this page's fields into the API's body. */
  function identify(r) {
    r.unit_id = Number(form.dataset.unit);
    r.unit_name = form.dataset.unitName;
    r.mode = draft ? "staff" : "person";
    r.codes = config.codes;
    r.ids = config.ids;
    r.sign_url = config.sign_url;
    if (!draft) r.id = Number(form.dataset.id);
  }

  async function opsOf() {
    return (await Offline.allOps()).filter((op) => op.visit === key);
  }

  /* Show the record: the server's values, with this phone's waiting ones on top. */
  function render() {
    const shown = { ...record.base };
    for (const [name, entry] of Object.entries(record.pending)) shown[name] = entry.value;
    for (const [name, entry] of Object.entries(record.refused)) shown[name] = entry.value;
    const typing = document.activeElement && document.activeElement.type !== "radio" ? document.activeElement.name : null;
    for (const [name, value] of Object.entries(shown)) {
      if (name === typing && !record.conflicts[name]) continue; // being typed: leave it be
      if (unstored.has(name) && !record.conflicts[name]) continue; // on its way to storage
      if (current.get(name) !== value) setValue(name, value);
    }
    versionInput.value = record.version ?? 0;
    renderProblems();
    applyConditions(); // the server cleared what its answers no longer ask
    updateProgress();
    if (draft) {
      const meta = document.getElementById("draft-meta");
      const started = record.start && record.start.client_started_at;
      if (started) {
        const text = record.id ? meta.dataset.sent : meta.dataset.pending;
        meta.textContent = text.replace("{time}", Offline.timeText(started));
      }
      if (record.id && !document.getElementById("open-on-server")) {
        // On the server now: its own page names people by id and shows every member's work.
        const link = document.createElement("a");
        link.href = `/inspector/visits/${record.id}`;
        link.textContent = meta.dataset.open;
        link.id = "open-on-server";
        meta.append(" ", link);
      }
    }
  }

  function renderProblems() {
    conflictsEl.replaceChildren();
    const conflicts = Object.entries(record.conflicts);
    const refused = Object.entries(record.refused);
    for (const [name, entry] of conflicts) {
      conflictsEl.append(problem(name, [
        `${msg.yours}: ${valueText(name, entry.mine)}`,
        `${msg.theirs}: ${valueText(name, entry.theirs)}`,
      ], [[msg.keep_mine, () => decide(name, "mine")], [msg.take_theirs, () => decide(name, "theirs")]]));
    }
    for (const [name, entry] of refused) {
      conflictsEl.append(problem(name, [`${valueText(name, entry.value)}: ${entry.message}`],
        [[msg.discard, () => decide(name, "discard")]]));
    }
    conflictsEl.hidden = !conflicts.length && !refused.length;
    // A refused value is also said at its field (a number out of range, say).
    for (const old of form.querySelectorAll("[data-field-error]")) old.remove();
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    for (const [name, entry] of refused) {
      const input = form.querySelector(`[name="${name}"]`);
      if (!input || input.type === "radio") continue;
      const note = document.createElement("p");
      note.className = "error";
      note.dataset.fieldError = "";
      note.textContent = entry.message;
      input.setAttribute("aria-invalid", "true");
      input.after(note);
    }
    if (conflicts.length) {
      showError(`${msg.conflict} ${msg.conflict_fields} ${conflicts.map(([n]) => labelOf(n)).join("; ")}`);
    } else if (refused.length) {
      showError(msg.invalid);
    } else {
      showError("");
    }
  }

  function problem(name, lines, actions) {
    const box = document.createElement("div");
    box.className = "problem";
    box.dataset.field = name;
    const title = document.createElement("p");
    const link = document.createElement("a");
    const target = form.querySelector(`[name="${name}"]`);
    const anchor = target && (target.closest(".person, .item") || target);
    link.href = anchor && anchor.id ? `#${anchor.id}` : "#checklist";
    link.textContent = labelOf(name);
    title.append(link);
    box.append(title);
    for (const line of lines) {
      const p = document.createElement("p");
      p.className = "small";
      p.textContent = line;
      box.append(p);
    }
    const row = document.createElement("div");
    row.className = "actions";
    for (const [text, action] of actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn small";
      button.textContent = text;
      button.addEventListener("click", action);
      row.append(button);
    }
    box.append(row);
    return box;
  }

  async function decide(name, how) {
    record = await Offline.resolve(key, name, how);
    render();
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

  async function showVisitState(detail) {
    if (!record) return;
    const ops = (await opsOf()).length;
    const waiting = Object.keys(record.pending).length + ops;
    const problems = Object.keys(record.conflicts).length + Object.keys(record.refused).length;
    if (problems) showState(msg.not_saved, "bad");
    else if (waiting && detail.problem === "login") showState(msg.logged_out, "bad");
    else if (waiting && (!navigator.onLine || detail.problem === "offline")) showState(msg.offline, "warn");
    else if (waiting) showState(msg.waiting.replace("{n}", waiting), "warn");
    else if (record.saved_at && record.saved_at !== savedAtLoad) {
      showState(msg.saved_at.replace("{time}", Offline.timeText(record.saved_at)), "ok");
    } else if (stateEl.className !== "muted") {
      showState(msg.saved, "ok"); // back to "all saved"; untouched on a fresh page (no shift)
    }
    if (detail.problem === "login" && waiting) showError(msg.logged_out);
  }

  /* ---- saving ---- */

  function remember(names) {
    const values = names.map((name) => [name, valueOf(name), labelOf(name)]);
    return loaded.then(() => Offline.updateVisit(key, (r) => {
      if (!Object.keys(r.codes).length) identify(r); // a record let go of while the page was open
      for (const [name, value, label] of values) {
        const known = r.pending[name];
        const base = known ? known.base : r.base[name] ?? "";
        delete r.refused[name];
        if (value === base) delete r.pending[name];
        else r.pending[name] = { value, base };
        r.labels = { ...(r.labels || {}), [name]: label };
      }
    }).then((r) => {
      record = r;
      for (const [name, value] of values) {
        Offline.unjournal(key, name, value);
        if (valueOf(name) === value) unstored.delete(name); // else a newer change is coming
      }
    }));
  }

  /* Journal the change at once (synchronous), store it in IndexedDB, then send it. */
  function later(name, delay) {
    Offline.journal(key, name, valueOf(name));
    unstored.add(name);
    clearTimeout(timers.get(name));
    timers.set(name, setTimeout(() => {
      timers.delete(name);
      remember([name]).then(() => Offline.soon(delay));
    }, parseField(name) ? 0 : 400)); // a tap now; typed text once the typing pauses
  }

  form.addEventListener("change", (event) => {
    const name = event.target.name;
    if (!tracked(name)) return;
    setValue(name, valueOf(name)); // keeps data-att in step
    const f = parseField(name);
    const arrival = f && f.what === "att" && form.elements[fieldName.arrival(f.person)];
    const also = applyConditions();
    if (arrival && valueOf(name) !== "late" && arrival.value) {
      setValue(arrival.name, ""); // only a late person has an arrival time
      also.push(arrival.name);
    }
    updateProgress();
    later(name, event.target.type === "radio" ? 150 : 600);
    for (const other of also) later(other, 150);
  });

  form.addEventListener("input", (event) => {
    if (event.target.tagName !== "TEXTAREA") return;
    current.set(event.target.name, event.target.value);
    later(event.target.name, 1200);
  });

  async function bulk(selector, value) {
    const names = [];
    for (const group of form.querySelectorAll(selector)) {
      if (group.querySelector("input:checked")) continue;
      const radio = group.querySelector(`input[value="${value}"]`);
      if (!radio) continue;
      setValue(radio.name, value);
      names.push(radio.name);
    }
    names.push(...applyConditions());
    updateProgress();
    for (const name of names) {
      Offline.journal(key, name, valueOf(name));
      unstored.add(name);
    }
    await remember(names);
    Offline.soon(100);
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest("[data-bulk]");
    if (!button) return;
    const action = button.dataset.bulk;
    if (action === "unit-pass") bulk(".item:not([hidden]) fieldset.outcome", "pass");
    if (action === "all-present") bulk(".person:not([hidden]) fieldset.att", "present");
    if (action === "people-pass") {
      bulk(AT_POST.map((a) => `.person[data-att="${a}"]:not([hidden]) .checks fieldset`).join(","), "pass");
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const next = event.submitter && event.submitter.value === "summary";
    const names = [...timers.keys()];
    for (const name of names) clearTimeout(timers.get(name));
    timers.clear();
    if (names.length) await remember(names);
    if (navigator.onLine) await Offline.sync();
    record = await Offline.getVisit(key);
    if (!next) return;
    const sent = !Offline.busy(record) && !(await opsOf()).length;
    if (!draft && navigator.onLine && sent) {
      window.location.href = config.summary_url;
      return;
    }
    if (!draft && navigator.onLine) {
      showError(msg.unsent);
      return;
    }
    // Offline, or a visit started on this phone: the signatures can be taken now.
    window.location.href = draft ? `${config.sign_url}?client=${encodeURIComponent(clientId)}` : config.sign_url;
  });

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") Offline.soon(0);
  });

  // Many changes come at once while sending: draw the page once for them.
  let redraw = null;
  Offline.events.addEventListener("change", () => {
    if (!record || redraw) return;
    redraw = setTimeout(async () => {
      redraw = null;
      const fresh = await Offline.getVisit(key);
      if (!fresh) return;
      record = fresh;
      render();
      await refreshPhotos();
      await showVisitState(lastState);
    }, 60);
  });
  let lastState = {};
  Offline.events.addEventListener("state", (event) => {
    lastState = event.detail;
    showVisitState(lastState);
  });

  /* ---- photos: kept on the phone, sent in order with everything else ---- */

  function thumbnail(src, alt, queued) {
    const link = document.createElement("a");
    link.href = src;
    link.target = "_blank";
    const img = document.createElement("img");
    img.src = src;
    img.alt = alt;
    img.width = 64;
    img.height = 64;
    link.append(img);
    if (queued) link.classList.add("queued");
    return link;
  }

  function strip(target) {
    return form.querySelector(`[data-photos="${CSS.escape(target)}"]`);
  }

  const shownPhotos = new Map(); // client_id -> link element

  async function showPhotos() {
    for (const op of await opsOf()) {
      if (op.kind !== "photo" || shownPhotos.has(op.client_id)) continue;
      const box = strip(op.payload.target);
      if (!box) continue;
      const link = thumbnail(URL.createObjectURL(op.blob), msg.photo, true);
      link.dataset.client = op.client_id;
      box.insertBefore(link, box.querySelector("label"));
      shownPhotos.set(op.client_id, link);
    }
    await refreshPhotos();
  }

  async function refreshPhotos() {
    const waiting = new Map((await opsOf()).filter((op) => op.kind === "photo").map((op) => [op.client_id, op]));
    for (const [client, link] of shownPhotos) {
      const op = waiting.get(client);
      link.classList.toggle("queued", Boolean(op && !op.error));
      link.classList.toggle("refused", Boolean(op && op.error));
      link.title = op && op.error ? op.error.message : "";
      const stored = record.photos && record.photos[client];
      if (!op && stored && link.dataset.sent !== "1") {
        link.dataset.sent = "1";
        link.href = stored.url;
      }
    }
  }

  form.addEventListener("change", async (event) => {
    const input = event.target;
    if (!input.dataset.photoTarget || !input.files.length) return;
    const [kind, ident] = input.dataset.photoTarget.split(":");
    for (const file of input.files) {
      const fields = {};
      if (kind === "item") fields.item_code = ident;
      else fields[draft ? "staff_id" : "person_id"] = ident;
      if (file.lastModified) fields.captured_at = new Date(file.lastModified).toISOString();
      try {
        await Offline.addOp({
          kind: "photo",
          visit: key,
          client_id: crypto.randomUUID(),
          blob: file,
          payload: { fields, target: input.dataset.photoTarget, filename: file.name },
        });
      } catch (_) {
        showError(msg.photo_failed); // and the top of the page says why (out of space)
      }
    }
    input.value = "";
    await showPhotos();
  });

  load();
})();
