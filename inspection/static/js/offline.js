/* Offline-first core of the inspector's pages, loaded on every one of them.
 *
 * - Registers the service worker (static/js/sw.js) and asks for persistent storage.
 * - Keeps what the inspector did on this phone in IndexedDB until the server has it:
 *   answers per visit (the newest value of each field), and a queue of operations in the
 *   order they were made (start a visit, add a photo, sign).
 * - Replays them to the JSON API when the connection is back (and on demand), exactly
 *   once: visits and photos carry a client_id, answers carry the version they are based
 *   on, and an answer the server already has is recognised after a lost reply.
 * - Never drops a change the server refuses (409, 422, …): it is kept with the server's
 *   answer until the inspector resolves it on the visit page or in the outbox.
 * - Shows the state in the top bar of every page.
 *
 * Storage format (FORMAT): 1 was the previous release's localStorage key per visit
 * (`inspection-<id>-user-<uid>-pending`); 2 is this IndexedDB database. Opening the
 * database migrates anything left in format 1.
 */
"use strict";

const Offline = (() => {
  const DB_NAME = "inspection-offline";
  const DB_VERSION = 1;
  const FORMAT = 2;
  const LOCK = "inspection-sync";
  const root = document.documentElement;
  const configEl = document.getElementById("sync-config");
  const config = configEl ? JSON.parse(configEl.textContent) : { messages: {}, user: 0 };
  const msg = config.messages;
  const USER = config.user;
  const events = new EventTarget();
  const channel = "BroadcastChannel" in window ? new BroadcastChannel("inspection-sync") : null;
  let csrf = config.csrf || "";
  let retryTimer = null;
  let retryDelay = 3000;
  let running = null;
  let again = false; // sync() was asked for while running
  let lastProblem = "";

  /* ---- IndexedDB ---- */

  function promised(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  function done(tx) {
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new DOMException("aborted", "AbortError"));
    });
  }

  const dbReady = new Promise((resolve, reject) => {
    if (!("indexedDB" in window)) {
      reject(new Error("no IndexedDB"));
      return;
    }
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      // Version 1 of the database: the stores of format 2.
      const ops = db.createObjectStore("ops", { keyPath: "seq", autoIncrement: true });
      ops.createIndex("user", "user");
      db.createObjectStore("visits", { keyPath: "key" });
      db.createObjectStore("meta", { keyPath: "name" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("blocked"));
  }).then(async (db) => {
    db.onversionchange = () => db.close();
    await migrate(db);
    await drainJournal(db);
    return db;
  });

  /* The journal: a change is written here synchronously the moment it is made, and
   * removed once IndexedDB (which is asynchronous) has it. A reload or a killed tab in
   * between loses nothing: the next page moves the journal into IndexedDB first. */
  const JOURNAL = `inspection-journal-${USER}`;

  function readJournal() {
    try { return JSON.parse(localStorage.getItem(JOURNAL)) || {}; } catch (_) { return {}; }
  }

  function journal(key, name, value) {
    const entries = readJournal();
    entries[key] = { ...(entries[key] || {}), [name]: value };
    try { localStorage.setItem(JOURNAL, JSON.stringify(entries)); } catch (_) { /* full: IndexedDB still gets it */ }
    // Said at once: a change made is a change waiting, even before IndexedDB has it.
    root.dataset.sync = navigator.onLine ? "waiting" : "offline";
    root.dataset.waiting = String(Number(root.dataset.waiting || 0) + 1);
    changed();
  }

  function unjournal(key, name, value) {
    const entries = readJournal();
    if (!entries[key] || entries[key][name] !== value) return;
    delete entries[key][name];
    if (!Object.keys(entries[key]).length) delete entries[key];
    if (Object.keys(entries).length) localStorage.setItem(JOURNAL, JSON.stringify(entries));
    else localStorage.removeItem(JOURNAL);
  }

  async function drainJournal(db) {
    const entries = readJournal();
    if (!Object.keys(entries).length) return;
    const tx = db.transaction(["visits"], "readwrite");
    const visits = tx.objectStore("visits");
    for (const [key, fields] of Object.entries(entries)) {
      const record = await promised(visits.get(key));
      if (!record) continue;
      for (const [name, value] of Object.entries(fields)) {
        const base = record.pending[name] ? record.pending[name].base : record.base[name] ?? "";
        if (value === base) delete record.pending[name];
        else record.pending[name] = { value, base };
      }
      visits.put(record);
    }
    await done(tx);
    localStorage.removeItem(JOURNAL);
  }

  async function migrate(db) {
    const tx = db.transaction(["meta", "visits"], "readwrite");
    const meta = tx.objectStore("meta");
    const visits = tx.objectStore("visits");
    const format = await promised(meta.get("format"));
    if (!format || format.value < 2) {
      // Format 1: answers waiting in localStorage, one key per visit and user.
      for (const key of Object.keys(localStorage)) {
        const m = key.match(/^inspection-(\d+)-user-(\d+)-pending$/);
        if (!m) continue;
        let entries = [];
        try { entries = JSON.parse(localStorage.getItem(key)) || []; } catch (_) { entries = []; }
        const visitKey = `v${m[1]}`;
        const record = (await promised(visits.get(visitKey))) || newVisit(visitKey, Number(m[2]), { id: Number(m[1]), mode: "person" });
        for (const [name, entry] of entries) record.pending[name] = { value: entry.value, base: entry.base };
        visits.put(record);
      }
      meta.put({ name: "format", value: FORMAT });
    }
    await done(tx);
    for (const key of Object.keys(localStorage)) {
      if (/^inspection-\d+-user-\d+-pending$/.test(key)) localStorage.removeItem(key);
    }
  }

  function newVisit(key, user, fields) {
    return {
      key, user, id: null, client_id: null, unit_id: null, unit_name: "", mode: "person",
      url: "", codes: {}, ids: {}, labels: {}, version: null, base: {}, pending: {},
      conflicts: {}, refused: {}, saved_at: null, ...fields,
    };
  }

  async function store(names, mode, work) {
    const db = await dbReady;
    const tx = db.transaction(names, mode);
    const result = await work(...names.map((n) => tx.objectStore(n)));
    await done(tx);
    return result;
  }

  const getVisit = (key) => store(["visits"], "readonly", (s) => promised(s.get(key)));
  const allVisits = () => store(["visits"], "readonly", (s) => promised(s.getAll()))
    .then((rows) => rows.filter((v) => v.user === USER));
  const allOps = () => store(["ops"], "readonly", (s) => promised(s.index("user").getAll(USER)))
    .then((rows) => rows.sort((a, b) => a.seq - b.seq));

  /* Change one visit record inside one transaction (safe against other tabs). */
  function updateVisit(key, change, fields) {
    return store(["visits"], "readwrite", async (s) => {
      const record = (await promised(s.get(key))) || newVisit(key, USER, fields || {});
      const result = change(record);
      record.touched_at = Date.now();
      s.put(record);
      return result === undefined ? record : result;
    }).then((value) => { changed(); return value; }, refusedWrite);
  }

  async function addOp(op) {
    const seq = await store(["ops"], "readwrite", async (s) => {
      if (op.kind === "signature") {
        // Signing again replaces the earlier signature of that role: keep only the newest.
        for (const old of await promised(s.index("user").getAll(USER))) {
          if (old.kind === "signature" && old.visit === op.visit && old.payload.role === op.payload.role) s.delete(old.seq);
        }
      }
      return promised(s.add({ user: USER, created_at: new Date().toISOString(), error: null, ...op }));
    }).catch(refusedWrite);
    writeRefused = false;
    changed();
    checkQuota();
    soon(0);
    return seq;
  }

  /* The inspector's decision on a conflict ("mine", "theirs") or a refused value ("discard"). */
  async function resolve(key, name, how) {
    const record = await updateVisit(key, (r) => {
      if (how === "mine" && r.conflicts[name]) {
        r.pending[name] = { value: r.conflicts[name].mine, base: r.conflicts[name].theirs };
      }
      delete r.conflicts[name];
      if (how === "discard") delete r.refused[name];
    });
    if (how === "mine") soon(0);
    return record;
  }

  function busy(visit) {
    return [visit.pending, visit.conflicts, visit.refused].some((m) => Object.keys(m).length);
  }

  const deleteOp = (seq) => store(["ops"], "readwrite", (s) => promised(s.delete(seq))).then(changed);
  const putOp = (op) => store(["ops"], "readwrite", (s) => promised(s.put(op))).then(changed);

  /* ---- talking to the server ---- */

  async function request(method, url, payload) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") options.headers["X-CSRFToken"] = csrf;
    if (payload instanceof FormData) options.body = payload;
    else if (payload) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (_) {
      return { status: 0, data: {} };
    }
    let data = {};
    try { data = await response.json(); } catch (_) { /* an HTML error page */ }
    return { status: response.status, data };
  }

  function errorText(data, fallback) {
    const error = data && data.error;
    if (!error) return fallback || msg.refused;
    const fields = error.fields ? Object.values(error.fields).join(" ") : "";
    return `${error.message} ${fields}`.trim();
  }

  class Stop extends Error {
    constructor(reason) { super(reason); this.reason = reason; }
  }

  function check(result) {
    if (result.status === 0 || result.status >= 500 || result.status === 429) throw new Stop("offline");
    if (result.status === 401 || result.status === 403) throw new Stop("login");
    if (result.status === 400 && result.data.error && /CSRF/i.test(result.data.error.message || "")) throw new Stop("login");
    return result;
  }

  const apiUrl = (visit, tail) => `/api/v1/inspections/${visit.id}${tail || ""}`;

  /* ---- answers: form field names <-> the API's body ---- */

  function bodyFor(visit, entries) {
    const out = { version: visit.version, unit_items: [], people: [] };
    const paths = new Map(); // JSON path of the server's error keys -> field name
    const units = new Map();
    const people = new Map();
    for (const [name, value] of entries) {
      const f = parseField(name);
      if (f && f.unit) {
        const code = visit.codes[f.unit];
        if (!units.has(code)) units.set(code, { code });
        const field = f.part || "outcome";
        units.get(code)[field] = field === "note" ? value : value || null;
        paths.set(`unit_items[${[...units.keys()].indexOf(code)}].${field}`, name);
        continue;
      }
      if (f && f.person) {
        const id = Number(f.person);
        if (!people.has(id)) people.set(id, { [visit.mode === "staff" ? "staff_id" : "person_id"]: id, items: [] });
        const person = people.get(id);
        const index = [...people.keys()].indexOf(id);
        if (f.what === "att") {
          person.attendance = value || null;
          paths.set(`people[${index}].attendance`, name);
        } else if (f.what === "arrived") {
          person.arrived_at = value || null;
          paths.set(`people[${index}].arrived_at`, name);
        } else if (f.what === "note") {
          person.note = value;
          paths.set(`people[${index}].note`, name);
        } else {
          const entry = { code: visit.codes[f.item] };
          entry[f.part === "note" ? "note" : "outcome"] = f.part === "note" ? value : value || null;
          person.items.push(entry);
          paths.set(`people[${index}].items[${person.items.length - 1}]`, name);
        }
        paths.set(`people[${index}]`, name);
        continue;
      }
      out[name] = name === "remediation_due" || name === "ended_at" ? value || null : value;
      paths.set(name, name);
    }
    out.unit_items = [...units.values()];
    out.people = [...people.values()];
    return { body: out, paths };
  }

  /* The server's answers as form field values. */
  function serverValues(visit, record) {
    const values = new Map();
    const ids = visit.ids;
    const key = visit.mode === "staff" ? "staff_id" : "person_id";
    for (const row of record.unit_items || []) {
      const id = ids[row.code];
      values.set(fieldName.unit(id), row.outcome || "");
      values.set(fieldName.unit(id, "note"), row.note || "");
      values.set(fieldName.unit(id, "number"), row.number == null ? "" : String(Number(row.number)));
      values.set(fieldName.unit(id, "text"), row.text || "");
    }
    for (const person of record.people || []) {
      const pid = person[key];
      if (pid == null) continue;
      values.set(fieldName.attendance(pid), person.attendance || "");
      values.set(fieldName.arrival(pid), person.arrived_at || "");
      values.set(fieldName.personNote(pid), person.note || "");
      for (const row of person.items) values.set(fieldName.personItem(pid, ids[row.code]), row.outcome || "");
    }
    for (const name of ["findings", "assessment", "requests", "unit_comments"]) values.set(name, record[name] || "");
    values.set("remediation_due", record.remediation_due || "");
    values.set("ended_at", record.ended_at ? record.ended_at.slice(0, 16) : "");
    return values;
  }

  function same(a, b) {
    if (a === b) return true;
    const x = Number(String(a).replace(",", "."));
    const y = Number(String(b).replace(",", "."));
    return a !== "" && b !== "" && !Number.isNaN(x) && !Number.isNaN(y) && x === y;
  }

  /* Take the server's answers: a pending value it already has was sent before (drop it);
   * one changed there by someone else since we read it is a conflict, kept for the
   * inspector to decide. */
  function rebase(record, server) {
    for (const [name, entry] of Object.entries(record.pending)) {
      const theirs = server.has(name) ? server.get(name) : "";
      if (same(theirs, entry.value)) delete record.pending[name];
      else if (!same(theirs, entry.base)) {
        record.conflicts[name] = { mine: entry.value, theirs };
        delete record.pending[name];
      }
    }
    for (const [name, value] of server) {
      record.base[name] = value;
      if (record.pending[name]) record.pending[name].base = value;
      if (record.conflicts[name]) record.conflicts[name].theirs = value;
    }
  }

  async function flushAnswers(key) {
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const visit = await getVisit(key);
      // Item codes come from the visit's checklist page: until it has been opened (answers
      // moved over from format 1), the answers wait.
      if (!visit || !visit.id) return;
      const entries = Object.entries(visit.pending).map(([name, e]) => [name, e.value]);
      if (!entries.length) return;
      if (!Object.keys(visit.codes).length && entries.some(([name]) => /^[up]_/.test(name))) return;
      const { body, paths } = bodyFor(visit, entries);
      const result = check(await request("PUT", apiUrl(visit, "/results"), body));
      if (result.status === 200) {
        await updateVisit(key, (record) => {
          record.version = result.data.version;
          for (const [name, value] of entries) {
            record.base[name] = value;
            if (record.pending[name] && record.pending[name].value === value) delete record.pending[name];
          }
          record.saved_at = new Date().toISOString();
        });
        continue;
      }
      if (result.status === 409) {
        const fresh = check(await request("GET", apiUrl(visit)));
        if (fresh.status !== 200) throw new Stop("offline");
        const server = serverValues(visit, fresh.data);
        await updateVisit(key, (record) => {
          rebase(record, server);
          record.version = fresh.data.version;
          record.server_status = fresh.data.status;
        });
        if (!["draft", "submitted"].includes(fresh.data.status)) {
          await refuseAll(key, errorText(result.data));
          return;
        }
        continue;
      }
      if (result.status === 422 || result.status === 400) {
        const fields = (result.data.error && result.data.error.fields) || {};
        const bad = new Map();
        for (const [path, message] of Object.entries(fields)) {
          for (const [prefix, name] of paths) {
            if (path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`)) bad.set(name, message);
          }
        }
        if (!bad.size) for (const [name] of entries) bad.set(name, errorText(result.data));
        await updateVisit(key, (record) => {
          for (const [name, message] of bad) {
            if (!record.pending[name]) continue;
            record.refused[name] = { value: record.pending[name].value, message };
            delete record.pending[name];
          }
        });
        continue;
      }
      // 404: the visit is gone or no longer this inspector's; keep everything, say so.
      await refuseAll(key, errorText(result.data, msg.not_yours));
      return;
    }
    again = true; // still changing under our feet: another round after this one
  }

  async function refuseAll(key, message) {
    await updateVisit(key, (record) => {
      for (const [name, entry] of Object.entries(record.pending)) {
        record.refused[name] = { value: entry.value, message };
        delete record.pending[name];
      }
    });
  }

  /* ---- queued operations ---- */

  async function sendOp(op, visit) {
    if (op.kind === "create") {
      const result = check(await request("POST", "/api/v1/inspections", op.payload));
      if (result.status === 200 || result.status === 201) {
        await updateVisit(op.visit, (record) => {
          record.id = result.data.id;
          record.version = result.data.version;
          record.server_status = result.data.status;
        });
      }
      return result;
    }
    if (op.kind === "photo") {
      const data = new FormData();
      data.append("file", op.blob, op.payload.filename || "photo.jpg");
      for (const [name, value] of Object.entries(op.payload.fields)) data.append(name, value);
      data.append("client_id", op.client_id);
      const result = check(await request("POST", apiUrl(visit, "/photos"), data));
      if (result.status === 200 || result.status === 201) {
        await updateVisit(op.visit, (record) => {
          // The upload moved the visit's version on: answers sent next build on it.
          if (result.data.version && record.version != null) record.version = Math.max(record.version, result.data.version);
          record.photos = { ...(record.photos || {}), [op.client_id]: result.data };
        });
      }
      return result;
    }
    if (op.kind === "signature") {
      const { role, ...body } = op.payload;
      const result = check(await request("PUT", apiUrl(visit, `/signatures/${role}`), body));
      if (result.status === 200) {
        await updateVisit(op.visit, (record) => {
          record.signed = { ...(record.signed || {}), [role]: result.data };
          // Signing moved the visit's version on: answers sent next build on it.
          if (result.data.version && record.version != null) record.version = Math.max(record.version, result.data.version);
        });
      }
      return result;
    }
    return { status: 422, data: { error: { message: `unknown operation ${op.kind}` } } };
  }

  async function syncAll() {
    if (!navigator.onLine) throw new Stop("offline");
    const { waiting } = await counts();
    if (!waiting) return; // nothing to send: no request at all
    const me = check(await request("GET", "/api/v1/me"));
    if (me.status !== 200 || me.data.id !== USER) throw new Stop("login");
    csrf = me.data.csrf_token || csrf;
    const blocked = new Set(); // visits whose earlier operation waits for the inspector
    const flushed = new Set();
    for (const op of await allOps()) {
      if (op.error || blocked.has(op.visit)) {
        blocked.add(op.visit);
        continue;
      }
      const visit = await getVisit(op.visit);
      if (op.kind !== "create" && !(visit && visit.id)) {
        blocked.add(op.visit);
        continue;
      }
      if (op.kind !== "create" && !flushed.has(op.visit)) {
        // Answers made before a signature or a photo reach the server first.
        await flushAnswers(op.visit);
        flushed.add(op.visit);
      }
      const result = await sendOp(op, visit);
      if (result.status >= 200 && result.status < 300) {
        await deleteOp(op.seq);
      } else {
        op.error = { status: result.status, message: errorText(result.data) };
        await putOp(op);
        blocked.add(op.visit);
      }
    }
    for (const visit of await allVisits()) {
      if (visit.id && Object.keys(visit.pending).length) await flushAnswers(visit.key);
    }
    await store(["meta"], "readwrite", (s) => promised(s.put({ name: `synced-${USER}`, value: new Date().toISOString() })));
    await forgetOld();
  }

  /* A visit's record goes once everything in it reached the server and nobody opened it
   * for a fortnight (the server has it all; the page keeps a new one when opened again). */
  async function forgetOld() {
    const ops = await allOps();
    const limit = Date.now() - 14 * 24 * 3600 * 1000;
    await store(["visits"], "readwrite", async (s) => {
      for (const visit of await promised(s.getAll())) {
        if (visit.user !== USER || (visit.touched_at || 0) > limit || !visit.id) continue;
        if (busy(visit) || ops.some((op) => op.visit === visit.key)) continue;
        s.delete(visit.key);
      }
    });
  }

  /* One sync at a time across this phone's tabs. */
  function sync() {
    if (running) {
      // A change made while a send is under way: send again after it, not at the next event.
      again = true;
      return running;
    }
    again = false;
    running = (async () => {
      setState("syncing");
      const work = async () => {
        try {
          await syncAll();
          lastProblem = "";
          retryDelay = 3000;
        } catch (error) {
          lastProblem = error instanceof Stop ? error.reason : "offline";
          if (lastProblem === "offline") {
            soon(retryDelay);
            retryDelay = Math.min(retryDelay * 2, 60000);
          }
        }
      };
      if (navigator.locks) await navigator.locks.request(LOCK, work);
      else await work();
    })().finally(() => {
      running = null;
      changed();
      if (again && !lastProblem) soon(0);
    });
    return running;
  }

  function soon(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => { if (navigator.onLine) sync(); }, delay);
  }

  /* ---- what the inspector sees ---- */

  async function counts() {
    const visits = await allVisits();
    const ops = await allOps();
    let waiting = ops.filter((op) => !op.error).length;
    let attention = ops.filter((op) => op.error).length;
    for (const visit of visits) {
      waiting += Object.keys(visit.pending).length;
      attention += Object.keys(visit.conflicts).length + Object.keys(visit.refused).length;
    }
    for (const fields of Object.values(readJournal())) waiting += Object.keys(fields).length;
    const meta = await store(["meta"], "readonly", (s) => promised(s.get(`synced-${USER}`)));
    return { waiting, attention, synced: meta ? meta.value : null };
  }

  function timeText(iso) {
    return new Date(iso).toLocaleTimeString(config.locale, { hour: "2-digit", minute: "2-digit", timeZone: config.time_zone });
  }

  let stateTimer = null;
  function changed() {
    clearTimeout(stateTimer);
    stateTimer = setTimeout(() => setState(running ? "syncing" : null), 30);
    events.dispatchEvent(new Event("change"));
  }

  async function setState(hint) {
    const badge = document.getElementById("sync-state");
    let c;
    try { c = await counts(); } catch (_) { return; }
    let state;
    let text;
    if (c.attention) {
      state = "attention";
      text = msg.attention.replace("{n}", c.attention);
    } else if (!navigator.onLine || (c.waiting && lastProblem === "offline")) {
      state = "offline";
      text = c.waiting ? `${msg.offline} · ${msg.waiting.replace("{n}", c.waiting)}` : msg.offline;
    } else if (c.waiting && lastProblem === "login") {
      state = "login";
      text = msg.login;
    } else if (c.waiting) {
      state = "waiting";
      text = msg.waiting.replace("{n}", c.waiting);
    } else {
      state = "saved";
      text = c.synced ? msg.saved_at.replace("{time}", timeText(c.synced)) : msg.saved;
    }
    if (hint === "syncing" && c.waiting && state === "waiting") text = `${msg.saving} ${text}`;
    root.dataset.sync = state;
    root.dataset.waiting = c.waiting;
    root.dataset.attention = c.attention;
    if (badge) {
      badge.textContent = text;
      badge.className = `sync-state ${state}`;
    }
    const detail = { state, text, ...c, problem: lastProblem };
    events.dispatchEvent(new CustomEvent("state", { detail }));
  }

  /* ---- storage: persistent when the browser allows, and enough of it ---- */

  function warnStorage(text) {
    const warning = document.getElementById("storage-warning");
    if (!warning) return;
    warning.hidden = !text;
    warning.textContent = text || "";
  }

  let writeRefused = false; // a write was refused: that message stays until one succeeds

  async function checkQuota() {
    if (!navigator.storage || !navigator.storage.estimate) return null;
    const { usage, quota } = await navigator.storage.estimate();
    const low = quota && quota - usage < config.min_free_bytes;
    if (!writeRefused) warnStorage(low ? msg.storage_low : "");
    return { usage, quota, low };
  }

  /* A write the phone refused: out of space is said plainly, never swallowed. */
  function refusedWrite(error) {
    const full = error && (error.name === "QuotaExceededError" || /quota/i.test(error.message || ""));
    writeRefused = true;
    warnStorage(full ? msg.storage_full : msg.no_storage);
    throw error;
  }

  async function persist() {
    if (!navigator.storage || !navigator.storage.persist) return false;
    if (await navigator.storage.persisted()) return true;
    return navigator.storage.persist();
  }

  /* ---- the service worker and the pages it keeps ---- */

  async function registerWorker() {
    if (!("serviceWorker" in navigator)) return null;
    try {
      const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      if (navigator.onLine) registration.update().catch(() => {});
      return registration;
    } catch (_) {
      return null;
    }
  }

  /* Ask the worker to keep these pages (the visits, the blank checklists of units). */
  async function keepPages(urls) {
    if (!("serviceWorker" in navigator) || !navigator.onLine) return;
    const registration = await navigator.serviceWorker.ready;
    const worker = registration.active;
    if (worker) worker.postMessage({ type: "keep", urls });
  }

  async function cachedPage(url) {
    if (!("caches" in window)) return false;
    return Boolean(await caches.match(url, { ignoreSearch: true }));
  }

  /* ---- start ---- */

  if (channel) channel.onmessage = () => setState();
  events.addEventListener("change", () => channel && channel.postMessage("change"));
  window.addEventListener("online", () => { retryDelay = 3000; setState(); sync(); });
  window.addEventListener("offline", () => setState());
  const ready = dbReady.then(() => {
    setState();
    if (navigator.onLine) soon(300);
  }).catch(() => {
    const badge = document.getElementById("sync-state");
    if (badge) {
      badge.textContent = msg.no_storage;
      badge.className = "sync-state attention";
    }
  });
  // The worker and the storage checks wait until the page is drawn and usable.
  function afterLoad() {
    setTimeout(() => {
      registerWorker().then(() => {
        const keep = document.getElementById("offline-pages");
        if (keep) keepPages(JSON.parse(keep.textContent));
      });
      persist().catch(() => {});
      checkQuota().catch(() => {});
    }, 500);
  }
  if (document.readyState === "complete") afterLoad();
  else window.addEventListener("load", afterLoad, { once: true });
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-sync-now]")) sync();
  });

  return {
    USER, ready, events, getVisit, allVisits, allOps, updateVisit, addOp, deleteOp, putOp,
    resolve, busy, sync, soon, cachedPage, rebase, timeText, journal, unjournal,
  };
})();
