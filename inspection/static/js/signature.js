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
    await Offline.updateVisit(key, (r) => {
      if (!draft) r.id = Number(page.dataset.id);
    }, { user: Offline.USER, unit_id: Number(page.dataset.unit) });
    await Offline.addOp({ kind: "signature", visit: key, payload });
    mine.add(role);
    await show();
  }

  async function show() {
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
      await refreshIssue();
    }
  }

  async function refreshIssue() {
    const section = document.getElementById("issue");
    try {
      const response = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok || response.redirected) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("issue");
      if (fresh) section.replaceChildren(...fresh.childNodes);
    } catch (_) {
      /* offline again: the page says what it said */
    }
  }

  Offline.events.addEventListener("change", show);
  show();
})();
