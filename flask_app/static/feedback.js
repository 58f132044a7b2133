// Saving corrections: "Right" or "Wrong, it was N" after an answer sends the drawing and its true
// label to POST /api/drawings. Separate from app.js: it only reads the canvas and the answer shown.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const box = $("feedback");
  const result = $("result");
  const canvas = $("canvas");
  const digitEl = $("digit");
  const savedEl = $("saved");
  const user = $("user");
  if (!box || !result || !canvas) return;
  const buttons = [...box.querySelectorAll("button")];
  let saving = false; // the server saves drawings at all
  let savedThis = false; // this answer was saved already: one save per drawing

  const describe = (body) =>
    `${body.count} drawing${body.count === 1 ? "" : "s"} saved, kept ${body.kept.startsWith("on ") ? "" : "in "}${body.kept}.`;

  function enable(on) {
    buttons.forEach((b) => (b.disabled = !on));
  }

  async function stats() {
    try {
      const response = await fetch(box.dataset.stats, { headers: { Accept: "application/json" } });
      const body = await response.json();
      saving = response.ok && body.saving;
      if (saving) savedEl.textContent = describe(body);
    } catch {
      saving = false;
    }
    update();
  }

  // Shown with an answer; a new answer may be saved again.
  function update() {
    const done = result.dataset.state === "done";
    box.hidden = !saving || !done;
    if (!done) savedThis = false;
    enable(done && !savedThis);
  }

  async function save(label) {
    enable(false);
    savedThis = true;
    savedEl.textContent = "Saving…";
    try {
      const response = await fetch(box.dataset.api, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ image: canvas.toDataURL("image/png"), label, user: user.value.trim() || undefined }),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
      savedEl.textContent = `Saved as a ${body.label}. ${describe(body)}`;
    } catch (error) {
      savedThis = false;
      savedEl.textContent = `Not saved: ${error.message}`;
      enable(true);
    }
  }

  $("right").addEventListener("click", () => save(Number(digitEl.textContent)));
  box.querySelectorAll(".it-was").forEach((b) => b.addEventListener("click", () => save(Number(b.dataset.label))));
  user.value = localStorage.getItem("digitrec-user") || "";
  user.addEventListener("change", () => localStorage.setItem("digitrec-user", user.value.trim()));
  // app.js sets #result[data-state] for every answer; a new drawing starts over.
  new MutationObserver(() => {
    savedThis = false;
    update();
  }).observe(result, { attributes: true, attributeFilter: ["data-state"] });
  stats();
})();
