/* What waits on this phone: the outbox page (every visit's waiting answers, photos and
 * signatures, and the refused ones with a way to resolve them) and, on the home page,
 * the visits started on this phone that the server has not got yet.
 */
"use strict";

(() => {
  if (typeof Offline === "undefined") return;
  const box = document.getElementById("outbox");
  const home = document.getElementById("on-phone");
  const configEl = document.getElementById("outbox-config");
  const text = configEl ? JSON.parse(configEl.textContent) : {};

  function el(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content != null) node.textContent = content;
    return node;
  }

  function button(label, action, primary) {
    const b = el("button", primary ? "btn small primary" : "btn small", label);
    b.type = "button";
    b.addEventListener("click", action);
    return b;
  }

  const shown = (value) => (value === "" || value == null ? text.empty_value : text.values[value] || value);
  const label = (visit, name) => (visit.labels && visit.labels[name]) || name;

  async function drawHome() {
    const visits = (await Offline.allVisits()).filter((v) => v.client_id && !v.id && !v.orphan);
    home.replaceChildren();
    for (const visit of visits) {
      const li = el("li");
      const link = el("a", null, null);
      link.href = visit.url;
      link.append(el("strong", null, visit.unit_name));
      li.append(link, el("span", "muted", ` · ${Offline.timeText(visit.start.client_started_at)}`));
      home.append(li);
    }
    home.hidden = !visits.length;
    document.getElementById("on-phone-h").hidden = !visits.length;
  }

  async function drawOutbox() {
    const visits = await Offline.allVisits();
    const ops = await Offline.allOps();
    const rows = [];
    for (const visit of visits) {
      const mine = ops.filter((op) => op.visit === visit.key);
      const pending = Object.keys(visit.pending);
      const conflicts = Object.entries(visit.conflicts);
      const refused = Object.entries(visit.refused);
      if (!mine.length && !pending.length && !conflicts.length && !refused.length) continue;
      const card = el("section", "card outbox-visit");
      card.dataset.visit = visit.key;
      const title = el("h2", null, visit.unit_name || visit.key);
      card.append(title);
      if (!visit.id) card.append(el("p", "muted small", text.not_sent));
      if (visit.url) {
        const open = el("a", "btn small", text.open);
        open.href = visit.url;
        const line = el("p", null);
        line.append(open);
        card.append(line);
      }
      if (pending.length) card.append(el("p", null, text.answers.replace("{n}", pending.length)));
      for (const [name, entry] of conflicts) {
        const item = el("div", "problem");
        item.append(el("p", null, `${label(visit, name)} — ${text.conflict}`));
        item.append(el("p", "small", `${text.mine}: ${shown(entry.mine)} · ${text.theirs}: ${shown(entry.theirs)}`));
        const actions = el("div", "actions");
        actions.append(
          button(text.keep_mine, () => resolve(visit.key, name, "mine")),
          button(text.take_theirs, () => resolve(visit.key, name, "theirs")),
        );
        item.append(actions);
        card.append(item);
      }
      for (const [name, entry] of refused) {
        const item = el("div", "problem");
        item.append(el("p", null, `${label(visit, name)}: ${shown(entry.value)}`));
        item.append(el("p", "small error", entry.message));
        const actions = el("div", "actions");
        actions.append(button(text.discard, () => resolve(visit.key, name, "discard")));
        item.append(actions);
        card.append(item);
      }
      for (const op of mine) {
        const item = el("div", op.error ? "problem" : "queued-op");
        const what = { create: text.start, photo: text.photo, signature: text.signature }[op.kind] || op.kind;
        const who = op.kind === "signature" ? ` (${op.payload.name})` : "";
        item.append(el("p", null, `${what}${who} · ${op.error ? text.refused : text.waiting}`));
        if (op.error) {
          item.append(el("p", "small error", op.error.message));
          const actions = el("div", "actions");
          actions.append(
            button(text.retry, () => retry(op), true),
            button(text.discard, () => dropOp(op)),
          );
          item.append(actions);
        }
        card.append(item);
      }
      rows.push(card);
    }
    box.replaceChildren(...(rows.length ? rows : [el("p", "muted", text.empty)]));
    await drawStorage();
  }

  async function drawStorage() {
    const figures = document.getElementById("storage-figures");
    if (!figures || !navigator.storage || !navigator.storage.estimate) return;
    const { usage, quota } = await navigator.storage.estimate();
    const persisted = navigator.storage.persisted ? await navigator.storage.persisted() : false;
    // 10.240,1 MB in Vietnamese, 10,240.1 MB in English.
    const number = new Intl.NumberFormat(document.documentElement.lang === "en" ? "en-GB" : "vi-VN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    const mb = (n) => `${number.format(n / 1048576)} MB`;
    figures.textContent = text.storage
      .replace("{used}", mb(usage))
      .replace("{quota}", mb(quota))
      .replace("{persisted}", persisted ? text.persisted : text.best_effort);
  }

  async function resolve(key, name, how) {
    if (how === "discard" && !window.confirm(text.confirm_discard)) return;
    await Offline.resolve(key, name, how);
  }

  async function retry(op) {
    await Offline.putOp({ ...op, error: null });
    Offline.sync();
  }

  async function dropOp(op) {
    if (!window.confirm(text.confirm_discard)) return;
    await Offline.deleteOp(op.seq);
  }

  const draw = box ? drawOutbox : home ? drawHome : null;
  if (!draw) return;
  Offline.ready.then(draw);
  Offline.events.addEventListener("change", draw);
})();
