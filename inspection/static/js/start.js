/* Starting a visit: the phone's clock and, when the inspector allows it, its position. */
"use strict";

(() => {
  const form = document.getElementById("start-form");
  if (!form) return;
  const status = document.getElementById("location-status");
  const toggle = document.getElementById("use-location");
  const set = (name, value) => { form.elements[name].value = value; };

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
  form.addEventListener("submit", () => set("client_time", new Date().toISOString()));
  locate();
})();
