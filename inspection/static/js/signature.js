/* Signature pads: draw with a finger (pointer events), clear, refuse an empty pad. */
"use strict";

(() => {
  for (const pad of document.querySelectorAll(".pad")) {
    const canvas = pad.querySelector("canvas");
    const output = pad.querySelector("[data-pad-image]");
    const form = pad.closest("form");
    const ctx = canvas.getContext("2d");
    let drawing = false;
    let strokes = 0;

    function resize() {
      const ratio = window.devicePixelRatio || 1;
      const width = canvas.clientWidth;
      const height = canvas.clientHeight;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#0a1a78";
      strokes = 0;
      output.value = "";
    }

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    }

    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      const [x, y] = point(event);
      ctx.beginPath();
      ctx.moveTo(x, y);
      ctx.lineTo(x + 0.1, y + 0.1);
      ctx.stroke();
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const [x, y] = point(event);
      ctx.lineTo(x, y);
      ctx.stroke();
      event.preventDefault();
    });
    const end = () => {
      if (!drawing) return;
      drawing = false;
      strokes += 1;
      output.value = canvas.toDataURL("image/png");
      const note = pad.querySelector(".error"); // "the pad is empty" no longer holds
      if (note) note.remove();
    };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);

    pad.querySelector("[data-pad-clear]").addEventListener("click", () => {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      strokes = 0;
      output.value = "";
    });

    form.addEventListener("submit", (event) => {
      const refused = form.querySelector("input[name$='-refused']");
      if (strokes === 0 && !(refused && refused.checked)) {
        event.preventDefault();
        let note = pad.querySelector(".error");
        if (!note) {
          note = document.createElement("p");
          note.className = "error";
          note.setAttribute("role", "alert");
          pad.append(note);
        }
        note.textContent = pad.dataset.emptyMessage;
        return;
      }
      if (typeof Offline === "undefined") return; // a plain form
      event.preventDefault();
      queue(form, refused && refused.checked);
    });
    resize();
  }

  /* ---- signatures wait on the phone like answers, and are sent in order ---- */

  const page = document.getElementById("sign-page");
  if (!page || typeof Offline === "undefined") return;
  const draft = !page.dataset.id;
  const clientId = new URLSearchParams(location.search).get("client");
  const key = draft ? `c${clientId}` : `v${page.dataset.id}`;
  const mine = new Set(); // roles signed on this page, not yet seen on the server

  if (draft && clientId) {
    const back = document.getElementById("back-to-visit");
    back.href = `${back.pathname}?client=${encodeURIComponent(clientId)}`;
  }

  const field = (form, name) => form.querySelector(`[name$='-${name}']`);

  async function queue(form, refused) {
    const role = form.dataset.role;
    const payload = {
      role,
      name: field(form, "name").value,
      position: field(form, "position").value,
      refused: Boolean(refused),
      reason: refused ? field(form, "reason").value : "",
    };
    if (!refused) payload.image = field(form, "image").value;
    // Bound to what the signer was shown: the version and the answers this phone holds.
    const held = await heldContent();
    payload.content_version = held.version;
    if (held.digest) payload.content_digest = held.digest;
    await ensureRecord();
    await Offline.addOp({ kind: "signature", visit: key, payload });
    mine.add(role);
    await show();
  }

  /* ---- what a signature is bound to ---- */

  const contentMap = () => JSON.parse(document.getElementById("content-map").textContent);

  function ensureRecord() {
    const map = contentMap();
    return Offline.updateVisit(key, (r) => {
      if (!draft) {
        r.id = Number(page.dataset.id);
        if (r.version == null) r.version = map.version;
      }
    }, { user: Offline.USER, unit_id: Number(page.dataset.unit) });
  }

  function normalised(ckey, value) {
    const text = String(value ?? "").replace(/\r\n?/g, "\n").trim();
    if (ckey.endsWith(":n") && text !== "") {
      const number = Number(text.replace(",", "."));
      return Number.isFinite(number) ? String(number) : text;
    }
    return text;
  }

  /* The content this phone holds: the server's values on this page with the phone's
   * unsent changes on top, as results.content_fields() keys them on the server. */
  async function heldContent() {
    const map = contentMap();
    const record = await Offline.getVisit(key);
    const pending = (record && record.pending) || {};
    const entries = [];
    for (const [name, ckey, value] of map.fields) {
      const held = normalised(ckey, pending[name] ? pending[name].value : value);
      if (held !== "") entries.push([ckey, held]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let digest = null;
    if (window.crypto && crypto.subtle) {
      const bytes = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(entries)));
      digest = [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
    }
    return { version: record && record.version != null ? record.version : map.version, digest };
  }

  /* The end time is an answer like the others: kept on the phone, sent in order. */
  const endInput = document.getElementById("ended_at");

  function localNow() {
    // The server's time zone (sync-config): a phone set to another zone still writes
    // the local time of the visit.
    const zone = JSON.parse(document.getElementById("sync-config").textContent).time_zone;
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date());
    const get = (type) => parts.find((p) => p.type === type).value;
    return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
  }

  async function keepEndTime() {
    const value = endInput.value;
    Offline.journal(key, "ended_at", value);
    const server = contentMap().fields.find((f) => f[0] === "ended_at")[2];
    await ensureRecord();
    await Offline.updateVisit(key, (r) => {
      const base = r.pending.ended_at ? r.pending.ended_at.base : server;
      delete r.refused.ended_at;
      if (value === base) delete r.pending.ended_at;
      else r.pending.ended_at = { value, base };
    });
    Offline.unjournal(key, "ended_at", value);
    Offline.soon(300);
  }

  if (endInput && endInput.dataset.lead) {
    endInput.addEventListener("change", keepEndTime);
    Offline.getVisit(key).then((record) => {
      const mine = record && record.pending.ended_at;
      if (mine) endInput.value = mine.value;
      else if (!endInput.value) {
        endInput.value = localNow(); // the team moves to signing now: the visit has ended
        keepEndTime();
      }
    });
  }

  /* ---- a visit not yet on the server: the minutes' text as this phone holds it ---- */

  const draftPreview = document.querySelector("[data-draft-preview]");

  async function drawDraftPreview() {
    const labels = JSON.parse(document.getElementById("draft-labels").textContent);
    const statusText = Object.fromEntries(labels.attendance);
    const texts = JSON.parse(draftPreview.dataset.texts);
    const record = await Offline.getVisit(key);
    const pending = (record && record.pending) || {};
    const held = new Map();
    for (const [name, , value] of contentMap().fields) {
      const v = String(pending[name] ? pending[name].value : value).trim();
      if (v) held.set(name, v);
    }
    const el = (tag, text, className) => {
      const node = document.createElement(tag);
      if (text) node.textContent = text;
      if (className) node.className = className;
      return node;
    };
    const body = draftPreview.querySelector("[data-preview-body]");
    const out = [];
    const people = Object.keys(labels.people);
    const by = {};
    for (const id of people) {
      const status = held.get(fieldName.attendance(id));
      if (status) (by[status] = by[status] || []).push(labels.people[id]);
    }
    const counts = labels.attendance.map(([status, text]) => {
      const names = by[status] || [];
      return `${text}: ${names.length}${names.length && status !== "present" ? ` (${names.join(", ")})` : ""}`;
    });
    out.push(el("p", `${texts.roster}: ${people.length}. ${counts.join("; ")}.`));
    const list = el("ul", "", "plain violations");
    for (const [name, value] of held) {
      const f = parseField(name);
      if (f && f.unit && !f.part && value === "fail") {
        const note = held.get(fieldName.unit(f.unit, "note"));
        list.append(el("li", `${texts.fail}: ${labels.items[f.unit]}${note ? ` – ${note}` : ""}`));
      }
      if (f && f.person && f.what === "att") {
        const pid = f.person;
        const items = Object.keys(labels.items);
        const failed = items.filter((i) => held.get(fieldName.personItem(pid, i)) === "fail");
        const notes = items.filter((i) => held.get(fieldName.personItem(pid, i, "note")))
          .map((i) => `${labels.items[i]}: ${held.get(fieldName.personItem(pid, i, "note"))}`);
        if (held.get(fieldName.personNote(pid))) notes.push(held.get(fieldName.personNote(pid)));
        const late = ["late", "absent_unexcused"].includes(value);
        if (failed.length || notes.length || late) {
          const parts = [statusText[value]];
          if (failed.length) parts.push(`${texts.fail}: ${failed.map((i) => labels.items[i]).join(", ")}`);
          list.append(el("li", `${labels.people[pid]}: ${[...parts, ...notes].join("; ")}`));
        }
      }
    }
    out.push(list);
    for (const name of ["findings", "assessment", "requests", "unit_comments"]) {
      out.push(el("h3", texts[name]));
      out.push(el("p", held.get(name) || texts.none));
    }
    if (held.get("remediation_due")) out.push(el("p", `${texts.due}: ${held.get("remediation_due")}`));
    body.replaceChildren(...out);
  }

  /* ---- issuing waits for this phone's changes to reach the server ---- */

  let waitingBefore = 0;

  async function waiting() {
    const record = await Offline.getVisit(key);
    const ops = (await Offline.allOps()).filter((op) => op.visit === key);
    return (record ? Object.keys(record.pending).length + Object.keys(record.refused).length : 0) + ops.length;
  }

  async function showWaiting() {
    const count = await waiting();
    const stale = document.getElementById("preview-stale");
    if (stale) {
      stale.textContent = stale.dataset.text.replace("{n}", count);
      stale.hidden = !count;
    }
    const form = document.getElementById("issue-form");
    if (form) {
      const note = document.getElementById("issue-waiting");
      note.textContent = note.dataset.text.replace("{n}", count);
      note.hidden = !count;
      form.querySelector("button[type=submit]").disabled = count > 0;
    }
    const sent = waitingBefore && !count;
    waitingBefore = count;
    if (sent && navigator.onLine && !draft) await refreshFromServer();
  }

  async function show() {
    await showWaiting();
    if (draftPreview) await drawDraftPreview();
    const record = await Offline.getVisit(key);
    const ops = (await Offline.allOps()).filter((op) => op.visit === key && op.kind === "signature");
    for (const form of document.querySelectorAll("form.signature-form")) {
      const role = form.dataset.role;
      const tag = form.parentElement.querySelector("[data-queued-tag]");
      const op = ops.find((o) => o.payload.role === role);
      const sent = record && record.signed && record.signed[role];
      if (op) {
        tag.textContent = op.error ? `${op.payload.name}: ${op.error.message}` : `${op.payload.name}: ${page.dataset.queued}`;
        tag.className = op.error ? "tag bad" : "tag queued";
        tag.hidden = false;
      } else if (sent && (draft || mine.has(role))) {
        tag.textContent = `${sent.name}: ${sent.refused ? page.dataset.refusedTag : page.dataset.sent}`;
        tag.className = "tag ok";
        tag.hidden = false;
      }
      if (draft && record && record.signers && !field(form, "name").value) {
        field(form, "name").value = record.signers[role] || "";
      }
    }
    // A visit on the server: once what was signed here has arrived, show what the server
    // now says about issuing the minutes (the rest of the page stays as the inspector left it).
    if (!draft && mine.size && !ops.length && navigator.onLine) {
      mine.clear();
      await refreshFromServer();
    }
  }

  /* Redraw what the server now says: the minutes' text, who must sign again, issuing. */
  async function refreshFromServer() {
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok || response.redirected) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["preview", "issue", "content-map"]) {
        const now = document.getElementById(id);
        const next = fresh.getElementById(id);
        if (now && next) now.replaceChildren(...next.childNodes);
      }
      const alertNow = document.getElementById("void-alert");
      const alertNext = fresh.getElementById("void-alert");
      if (alertNow) alertNow.remove();
      if (alertNext) page.after(alertNext);
      for (const role of ["lead", "secretary", "unit_rep"]) {
        const now = document.querySelector(`#sign-${role} [data-void]`);
        const next = fresh.querySelector(`#sign-${role} [data-void]`);
        if (now && !next) now.remove();
        else if (next && !now) document.querySelector(`#sign-${role} h2`).after(next);
      }
      await showWaiting();
    } catch (_) {
      /* offline again: the page says what it said */
    }
  }

  // The draft PDF is made by the server: offered only when there is a connection.
  const online = () => {
    for (const link of document.querySelectorAll("[data-online-only]")) link.hidden = !navigator.onLine;
  };
  window.addEventListener("online", online);
  window.addEventListener("offline", online);
  online();

  Offline.events.addEventListener("change", show);
  show();
})();
