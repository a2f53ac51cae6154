/* Starting a visit: the phone's clock and, when the inspector allows it, its position.
 *
 * With no connection the visit starts on the phone, for a unit whose blank checklist
 * the phone keeps: it is queued (with its client_id) and created on the server later.
 */
"use strict";

(() => {
  const form = document.getElementById("start-form");
  if (!form) return;
  const status = document.getElementById("location-status");
  const toggle = document.getElementById("use-location");
  const problem = document.getElementById("start-offline-error");
  const set = (name, value) => { form.elements[name].value = value; };
  // A fresh name for this start: a page kept for offline use must not reuse an old one.
  if (window.crypto && crypto.randomUUID) set("client_id", crypto.randomUUID());

  function locate() {
    if (!toggle.checked || !navigator.geolocation) return;
    status.textContent = toggle.dataset.locating;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        set("latitude", pos.coords.latitude);
        set("longitude", pos.coords.longitude);
        set("accuracy", Math.round(pos.coords.accuracy));
        status.textContent = toggle.dataset.located.replace("{m}", Math.round(pos.coords.accuracy));
      },
      () => { status.textContent = toggle.dataset.denied; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  }

  toggle.addEventListener("change", () => {
    if (!toggle.checked) {
      for (const name of ["latitude", "longitude", "accuracy"]) set(name, "");
      status.textContent = "";
    }
    locate();
  });

  const blankUrl = (unitId) => `/inspector/units/${unitId}/new`;

  /* The checklists: those for the chosen unit are ticked until the lead changes them. */
  const chosen = form.elements.templates_chosen;
  const templateBoxes = [...form.querySelectorAll("input[name=templates]")];
  const templatesSummary = document.getElementById("templates-summary");

  function showTemplates() {
    const names = templateBoxes.filter((box) => box.checked).map((box) => labelText(box));
    templatesSummary.textContent = names.join(", ") || "—";
  }

  function tickTemplates() {
    const unit = form.querySelector("input[name=unit_id]:checked");
    if (chosen.value || !unit) return;
    const codes = unit.dataset.templates.split(" ");
    for (const box of templateBoxes) box.checked = codes.includes(box.value);
    showTemplates();
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "unit_id") tickTemplates();
    if (event.target.name === "templates") {
      chosen.value = "1";
      showTemplates();
    }
  });

  /* Offline: say which units can be started (their blank checklist is on the phone). */
  async function markUnits() {
    if (navigator.onLine || typeof Offline === "undefined") return;
    for (const input of form.querySelectorAll("input[name=unit_id]")) {
      const kept = await Offline.cachedPage(blankUrl(input.value));
      input.closest("li").classList.toggle("unavailable", !kept);
      input.disabled = !kept;
    }
  }

  function labelText(input) {
    const label = input && form.querySelector(`label[for="${input.id}"]`);
    return label ? label.firstChild.textContent.trim() : "";
  }

  function team() {
    const lead = Number(form.elements.lead.value);
    const secretary = Number(form.elements.secretary.value || 0);
    const members = [...form.querySelectorAll("input[name=members]:checked")].map((el) => Number(el.value));
    const out = [{ user_id: lead, role: "lead" }];
    if (secretary && secretary !== lead) out.push({ user_id: secretary, role: "secretary" });
    const taken = new Set(out.map((m) => m.user_id));
    for (const id of members) if (!taken.has(id)) { out.push({ user_id: id, role: "member" }); taken.add(id); }
    return out;
  }

  async function startHere() {
    const unit = form.querySelector("input[name=unit_id]:checked");
    if (!unit) {
      problem.textContent = problem.dataset.noUnit;
      problem.hidden = false;
      return;
    }
    if (!(await Offline.cachedPage(blankUrl(unit.value)))) {
      problem.textContent = problem.dataset.notKept;
      problem.hidden = false;
      return;
    }
    const ticked = templateBoxes.filter((box) => box.checked).map((box) => box.value).sort().join(" ");
    if (chosen.value && ticked !== unit.dataset.templates.split(" ").sort().join(" ")) {
      // The phone keeps the unit's blank checklist with the unit's own checklists only.
      problem.textContent = problem.dataset.templates;
      problem.hidden = false;
      return;
    }
    const clientId = form.elements.client_id.value;
    const key = `c${clientId}`;
    const number = (name) => (form.elements[name].value === "" ? null : Number(form.elements[name].value));
    const payload = {
      client_id: clientId,
      unit_id: Number(unit.value),
      kind: form.querySelector("input[name=kind]:checked").value,
      team: team(),
      client_started_at: new Date().toISOString(),
      started_offline: true, // the visit began now, whenever the server hears of it
    };
    if (number("latitude") != null) {
      payload.location = { latitude: number("latitude"), longitude: number("longitude"), accuracy: number("accuracy") };
    }
    const leadInput = form.querySelector("input[name=lead]:checked");
    const secretaryInput = form.querySelector("input[name=secretary]:checked");
    await Offline.updateVisit(key, (r) => {
      r.client_id = clientId;
      r.unit_id = payload.unit_id;
      r.unit_name = labelText(unit);
      r.mode = "staff";
      r.start = payload;
      r.url = `${blankUrl(unit.value)}?client=${encodeURIComponent(clientId)}`;
      r.signers = { lead: labelText(leadInput), secretary: secretaryInput && secretaryInput.value !== "0" ? labelText(secretaryInput) : "" };
    }, { user: Offline.USER });
    await Offline.addOp({ kind: "create", visit: key, client_id: clientId, payload });
    window.location.href = `${blankUrl(unit.value)}?client=${encodeURIComponent(clientId)}`;
  }

  /* Ask the server first; with no answer (no signal, or a signal that carries nothing)
   * start on the phone. The same client_id makes both paths one visit. */
  async function startOnServer() {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 10000);
    try {
      const response = await fetch(form.action || location.href, {
        method: "POST", body: new FormData(form), credentials: "same-origin", signal: controller.signal,
      });
      if (response.redirected && /\/inspector\/visits\/\d+$/.test(new URL(response.url).pathname)) {
        window.location.href = response.url;
      } else {
        form.submit(); // the server has something to say (a refused unit, a form error)
      }
    } catch (_) {
      await startHere();
    } finally {
      clearTimeout(timer);
    }
  }

  form.addEventListener("submit", (event) => {
    set("client_time", new Date().toISOString());
    if (typeof Offline === "undefined") return; // a plain form
    event.preventDefault();
    if (navigator.onLine) startOnServer();
    else startHere();
  });
  window.addEventListener("offline", markUnits);
  window.addEventListener("online", () => {
    for (const input of form.querySelectorAll("input[name=unit_id]")) {
      input.disabled = false;
      input.closest("li").classList.remove("unavailable");
    }
  });
  markUnits();
  tickTemplates();
  locate();
})();
