// Saving corrections: "Right" or "Wrong, it was N" after an answer sends the drawing and its true
// label to POST /api/drawings. Separate from app.js: it only reads the canvas and the answer shown.
// window.digitrecFeedback is the part number.js shares: whether the server saves, the user's name,
// one save and the line that describes it; number mode sends the digit's position with each save.
// "Forget me" asks first (confirm), then sends DELETE /api/drawings?user=NAME and shows the answer.
// "Learn my handwriting" sends POST /api/learn {"user": NAME} and polls GET /api/learn?user=NAME: progress,
// then the figures before and after.
"use strict";

window.digitrecFeedback = (() => {
  const box = document.getElementById("feedback");
  const canvas = document.getElementById("canvas");
  if (!box || !canvas) return null;
  const NAME = "digitrec-user";
  const names = []; // every name field on the page shows the same name
  let name = localStorage.getItem(NAME) || "";
  let saving = null; // a Promise: the stats line, or null when the server does not save

  const describe = (body) =>
    `${body.count} drawing${body.count === 1 ? "" : "s"} saved, kept ${body.kept.startsWith("on ") ? "" : "in "}${body.kept}.`;

  // Whether the server saves drawings: the line saying how many and where, or null. Asked once.
  function stats() {
    saving ??= fetch(box.dataset.stats, { headers: { Accept: "application/json" } })
      .then(async (response) => {
        const body = await response.json();
        return response.ok && body.saving ? describe(body) : null;
      })
      .catch(() => null);
    return saving;
  }

  // A name field: filled from, and kept in, this browser's storage, in step with the others.
  function bindName(input) {
    names.push(input);
    input.value = name;
    input.addEventListener("input", () => {
      name = input.value;
      names.forEach((other) => other !== input && (other.value = name));
    });
    input.addEventListener("change", () => localStorage.setItem(NAME, name.trim()));
  }

  // The canvas as it is, with ``fields`` (label; in number mode position and number): the server's
  // answer, or an Error in the server's words.
  async function save(fields) {
    const response = await fetch(box.dataset.api, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ ...fields, image: canvas.toDataURL("image/png"), user: name.trim() || undefined }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
    return body;
  }

  // "Forget me": every drawing saved under the name typed deleted, after the user confirms. The line to
  // show, or null when the user said no; an Error in the server's words.
  async function forget() {
    const user = name.trim();
    if (!user) throw new Error("Type your name first: the drawings saved under it are deleted.");
    if (!window.confirm(`Delete every drawing saved by ${user}? This cannot be undone.`)) return null;
    const url = `${box.dataset.api}?${new URLSearchParams({ user })}`;
    const response = await fetch(url, { method: "DELETE", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
    return `Forgot ${body.user}: ${body.deleted} drawing${body.deleted === 1 ? "" : "s"} deleted.`;
  }

  // "Learn my handwriting": POST /api/learn, then GET /api/learn?user= every second until done or failed;
  // ``say(line)`` hears each step. The last line, or an Error in the server's words.
  async function learn(say) {
    const user = name.trim();
    if (!user) throw new Error("Type your name first: the drawings saved under it are learnt from.");
    const api = document.getElementById("learn").dataset.api;
    const ask = async (init, url = api) => {
      const response = await fetch(url, { headers: { Accept: "application/json", "Content-Type": "application/json" }, ...init });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
      return body;
    };
    let state = await ask({ method: "POST", body: JSON.stringify({ user }) });
    while (state.state === "queued" || state.state === "running") {
      say(state.state === "queued" ? "Learning your handwriting: waiting for its turn…" : `Learning your handwriting: ${state.percent}%…`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      state = await ask({ method: "GET" }, `${api}?${new URLSearchParams({ user })}`);
    }
    if (state.state !== "done") throw new Error(state.error || `it ended ${state.state}`);
    return `Learnt your handwriting: ${figures(state)}. Your answers now come from your own model.`;
  }

  // "your drawings 80.0% → 95.0% (2-fold cross-validation), MNIST 99.5% → 99.5%"
  function figures(state) {
    const pc = (v) => (v === null || v === undefined ? "n/a" : `${(100 * v).toFixed(1)}%`);
    const names = { saved: "your drawings", mnist_test: "MNIST", validation_writers: "other writers" };
    return Object.entries(names)
      .filter(([key]) => state.before && key in state.before)
      .map(([key, label]) => `${label} ${pc(state.before[key])} → ${pc(state.after[key])}${key === "saved" && state.figure ? ` (${state.figure})` : ""}`)
      .join(", ");
  }

  return { describe, stats, bindName, save, forget, learn, name: () => name.trim() };
})();

(() => {
  const $ = (id) => document.getElementById(id);
  const shared = window.digitrecFeedback;
  const box = $("feedback");
  const result = $("result");
  const digitEl = $("digit");
  const savedEl = $("saved");
  if (!shared || !result) return;
  const buttons = [...box.querySelectorAll(".verdict button")]; // one save per answer; "Forget me" apart
  let saving = false; // the server saves drawings at all
  let savedThis = false; // this answer was saved already: one save per drawing

  function enable(on) {
    buttons.forEach((b) => (b.disabled = !on));
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
      const body = await shared.save({ label });
      savedEl.textContent = `Saved as a ${body.label}. ${shared.describe(body)}`;
    } catch (error) {
      savedThis = false;
      savedEl.textContent = `Not saved: ${error.message}`;
      enable(true);
    }
  }

  $("right").addEventListener("click", () => save(Number(digitEl.textContent)));
  box.querySelectorAll(".it-was").forEach((b) => b.addEventListener("click", () => save(Number(b.dataset.label))));
  $("forget").addEventListener("click", async () => {
    try {
      const line = await shared.forget();
      if (line !== null) savedEl.textContent = line;
    } catch (error) {
      savedEl.textContent = `Nothing deleted: ${error.message}`;
    }
  });
  $("learn").addEventListener("click", async () => {
    $("learn").disabled = true;
    try {
      savedEl.textContent = await shared.learn((line) => (savedEl.textContent = line));
    } catch (error) {
      savedEl.textContent = `Not learnt: ${error.message}`;
    } finally {
      $("learn").disabled = false;
    }
  });
  shared.bindName($("user"));
  // app.js sets #result[data-state] for every answer; a new drawing starts over.
  new MutationObserver(() => {
    savedThis = false;
    update();
  }).observe(result, { attributes: true, attributeFilter: ["data-state"] });
  shared.stats().then((line) => {
    saving = line !== null;
    if (saving) savedEl.textContent = line;
    update();
  });
})();
