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
      }
    });
    resize();
  }
})();
