// digitrec drawing page, number mode: a wide canvas, a box over each digit's ink, each digit's bars.
// app.js draws and sends the drawing; in number mode it sends it to /api/read_number and hands the
// answer over with a cancelable "digitrec:answer" event, which this script takes and shows.
// Each digit's card has "Right" and "Wrong, it was"; feedback.js's shared part sends the save.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const app = document.querySelector(".app");
  const section = $("number-result");
  if (!app || !section) return;
  const canvas = $("canvas");
  const paper = $("paper");
  const digitApi = app.dataset.api;
  const numberEl = $("number");
  const confidenceEl = $("number-confidence");
  const messageEl = $("number-message");
  const list = $("number-digits");
  const feedback = window.digitrecFeedback; // null without the page's feedback section
  const feedbackBox = $("number-feedback");
  const savedEl = $("number-saved");
  let saving = false; // the server saves drawings at all
  const HINT = "Write a number, then press Predict.";
  const DIGIT_LABEL = "Drawing area: draw one digit here";
  const NUMBER_LABEL = "Drawing area: write a whole number here";

  // The switch sits with the other controls, before "Live".
  const controls = document.querySelector(".controls");
  controls.insertBefore($("number-switch").content.cloneNode(true), controls.querySelector(".live"));
  const toggle = $("number-mode");

  // The boxes: an SVG laid over the canvas, in the canvas's own pixels (those of the PNG sent).
  const SVG = "http://www.w3.org/2000/svg";
  const boxes = document.createElementNS(SVG, "svg");
  boxes.setAttribute("class", "number-boxes");
  boxes.setAttribute("aria-hidden", "true");
  boxes.setAttribute("preserveAspectRatio", "none");
  paper.append(boxes);

  // As app.js: the network is never certain, so never "100%" or "0.0%".
  const percent = (p) => (p >= 0.9995 ? ">99.9%" : p < 0.0005 ? "<0.1%" : `${(100 * p).toFixed(1)}%`);

  function setMode(on) {
    app.classList.toggle("number-mode", on);
    section.hidden = !on;
    app.dataset.api = on ? section.dataset.api : digitApi;
    canvas.setAttribute("aria-label", on ? NUMBER_LABEL : DIGIT_LABEL);
    $("clear").click(); // strokes are kept in canvas fractions: the new shape would stretch them
  }

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function drawBoxes(digits) {
    boxes.replaceChildren();
    boxes.setAttribute("viewBox", `0 0 ${canvas.width} ${canvas.height}`);
    const line = Math.max(2, canvas.height / 140);
    digits.forEach((d, k) => {
      const [x0, y0, x1, y1] = d.box;
      const rect = document.createElementNS(SVG, "rect");
      const pad = line * 2;
      rect.setAttribute("x", x0 - pad);
      rect.setAttribute("y", y0 - pad);
      rect.setAttribute("width", x1 - x0 + 2 * pad);
      rect.setAttribute("height", y1 - y0 + 2 * pad);
      rect.setAttribute("rx", line * 3);
      rect.setAttribute("stroke-width", line);
      rect.setAttribute("class", `box box-${k % 6}`);
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", x0 - pad);
      label.setAttribute("y", Math.max(y0 - pad - line * 2, line * 9));
      label.setAttribute("font-size", line * 9);
      label.setAttribute("class", `box-label box-${k % 6}`);
      label.textContent = String(d.digit);
      boxes.append(rect, label);
    });
  }

  function digitCard(d, k) {
    const li = element("li", `number-digit box-${k % 6}`);
    li.append(element("span", "number-digit-value", String(d.digit)), element("span", "pct", percent(d.confidence)));
    const bars = element("ol", "mini-bars");
    bars.setAttribute("aria-label", `digit ${k + 1}: probability of each digit`);
    d.probabilities.forEach((p, digit) => {
      const bar = element("li", digit === d.digit ? "top" : "");
      bar.style.setProperty("--p", p.toFixed(4)); // CSSOM, not a style attribute: fine under the CSP
      bar.title = `${digit}: ${percent(p)}`;
      bar.append(element("span", "mini-bar"), element("span", "mini-label", String(digit)));
      bars.append(bar);
    });
    li.append(bars);
    if (saving) li.append(verdict(d, k));
    return li;
  }

  // "Right" / "Wrong, it was _" for the digit at position k: each digit is saved on its own, once.
  function verdict(d, k) {
    const group = element("div", "verdict number-verdict");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", `Was digit ${k + 1} right?`);
    const right = element("button", "number-right", "Right");
    right.type = "button";
    right.setAttribute("aria-label", `Digit ${k + 1} is right: a ${d.digit}`);
    const wrong = element("select", "number-it-was");
    wrong.setAttribute("aria-label", `Digit ${k + 1} is wrong: it was`);
    wrong.append(element("option", "", "Wrong, it was…"));
    wrong.options[0].value = "";
    for (let digit = 0; digit < 10; digit++) wrong.append(element("option", "", String(digit)));
    const controls = [right, wrong];
    const enable = (on) => controls.forEach((c) => (c.disabled = !on));
    async function save(label) {
      enable(false);
      savedEl.textContent = "Saving…";
      try {
        const body = await feedback.save({ label, position: k, number: numberEl.textContent });
        savedEl.textContent = `Saved digit ${k + 1} as a ${body.label}. ${feedback.describe(body)}`;
        group.dataset.saved = String(body.label);
      } catch (error) {
        savedEl.textContent = `Not saved: ${error.message}`;
        wrong.value = "";
        enable(true);
      }
    }
    right.addEventListener("click", () => save(d.digit));
    wrong.addEventListener("change", () => wrong.value !== "" && save(Number(wrong.value)));
    group.append(right, wrong);
    return group;
  }

  function show(answer) {
    numberEl.textContent = answer.text;
    confidenceEl.textContent = `${percent(answer.confidence)} sure`;
    const doubtful = answer.digits.filter((d) => d.confidence < 0.8).length;
    messageEl.textContent =
      doubtful === 0
        ? `That reads ${answer.text}: ${answer.digits.length} digit${answer.digits.length === 1 ? "" : "s"}.`
        : `Not sure of ${doubtful} digit${doubtful === 1 ? "" : "s"}: see the bars below.`;
    list.replaceChildren(...answer.digits.map(digitCard));
    drawBoxes(answer.digits);
    feedbackBox.hidden = !saving;
    section.dataset.state = "done";
  }

  function reset(message, state = "idle") {
    numberEl.textContent = "";
    confidenceEl.textContent = "";
    messageEl.textContent = message;
    list.replaceChildren();
    boxes.replaceChildren();
    feedbackBox.hidden = true;
    section.dataset.state = state;
  }

  app.addEventListener("digitrec:answer", (event) => {
    if (!toggle.checked) return; // a digit: app.js shows it
    event.preventDefault();
    const { blank, error, status, body } = event.detail;
    if (blank || (status === 200 && !body.text)) reset("The canvas is blank: write a number first.", "blank");
    else if (error) reset(error, "error");
    else if (status !== 200) reset(body.error || `The server answered ${status}.`, "error");
    else show(body);
  });

  toggle.addEventListener("change", () => setMode(toggle.checked));
  $("clear").addEventListener("click", () => reset(HINT));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") reset(HINT);
  });
  // Drawing again makes the boxes stale: they go at the first touch of the pen, and so does saving
  // a digit of the old reading (the server would read the new drawing).
  canvas.addEventListener("pointerdown", () => {
    boxes.replaceChildren();
    list.querySelectorAll(".number-verdict button, .number-verdict select").forEach((c) => (c.disabled = true));
  });
  if (feedback) {
    feedback.bindName($("number-user"));
    feedback.stats().then((line) => {
      saving = line !== null;
      if (saving) savedEl.textContent = line;
    });
  }
})();
