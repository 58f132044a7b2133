// digitrec drawing page: Pointer Events drawing, one prediction request in flight at a time.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const app = document.querySelector(".app");
  const canvas = $("canvas");
  const paper = $("paper");
  const ctx = canvas.getContext("2d");
  const result = $("result");
  const digitEl = $("digit");
  const confidenceEl = $("confidence");
  const messageEl = $("message");
  const modelInput = $("model-input");
  const live = $("live");
  const bars = [...document.querySelectorAll("#bars li")];

  // The pen is 7% of the canvas side: about 2 px at 28x28, like MNIST's strokes.
  const PEN = 0.07;
  const INK = "#1b2333";
  const LIVE_INTERVAL_MS = 250; // live mode: at most one request per interval while drawing
  const HINT = "Draw a digit, then press Predict.";

  // Strokes in canvas fractions (0..1), so a resize can redraw them at any resolution.
  const strokes = [];
  let stroke = null; // the stroke being drawn
  let pointerId = null; // the one pointer that draws; other fingers are ignored
  let drawing = 0; // bumps on Clear: answers for an earlier drawing are dropped

  // --- drawing --------------------------------------------------------------------------------

  const mid = (a, b) => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  const X = (p) => p[0] * canvas.width;
  const Y = (p) => p[1] * canvas.height;

  function pen() {
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = PEN * Math.min(canvas.width, canvas.height);
    ctx.strokeStyle = ctx.fillStyle = INK;
  }

  // Quadratic smoothing: the curve runs through the midpoints of successive points, each point
  // bending it as the control point. Point k (k >= 2) adds the piece ending at mid(k-1, k).
  function piece(s, k) {
    if (k < 2) return;
    const start = k === 2 ? s[0] : mid(s[k - 2], s[k - 1]);
    const end = mid(s[k - 1], s[k]);
    ctx.beginPath();
    ctx.moveTo(X(start), Y(start));
    ctx.quadraticCurveTo(X(s[k - 1]), Y(s[k - 1]), X(end), Y(end));
    ctx.stroke();
  }

  // The straight tail from the last midpoint to the last point, or a dot for a tap.
  function finish(s) {
    const n = s.length;
    const last = s[n - 1];
    ctx.beginPath();
    if (n === 1) {
      ctx.arc(X(last), Y(last), ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      return;
    }
    const start = n === 2 ? s[0] : mid(s[n - 2], s[n - 1]);
    ctx.moveTo(X(start), Y(start));
    ctx.lineTo(X(last), Y(last));
    ctx.stroke();
  }

  function redraw() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    pen();
    for (const s of strokes) {
      for (let k = 2; k < s.length; k++) piece(s, k);
      finish(s);
    }
  }

  // Match the canvas's pixels to its on-screen size (sharp on high-DPI screens); square for a digit,
  // wide for a whole number (number.js).
  function fit() {
    const scale = Math.min(window.devicePixelRatio || 1, 3);
    const width = Math.round(canvas.clientWidth * scale);
    const height = Math.round(canvas.clientHeight * scale);
    if (width > 0 && height > 0 && (width !== canvas.width || height !== canvas.height)) {
      canvas.width = width;
      canvas.height = height;
      redraw();
    }
  }

  function at(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (pointerId !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    pointerId = event.pointerId;
    try {
      canvas.setPointerCapture(pointerId); // keep the stroke when the pointer leaves the canvas
    } catch {
      // synthetic events have no capturable pointer; drawing works without capture
    }
    stroke = [at(event)];
    strokes.push(stroke);
    paper.removeAttribute("data-empty");
    pen();
    changed();
  });

  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== pointerId) return;
    // Coalesced events: every sample the device gave since the last frame, for smooth fast strokes.
    const samples = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const e of samples.length ? samples : [event]) {
      stroke.push(at(e));
      piece(stroke, stroke.length - 1);
    }
    changed();
  });

  function end(event) {
    if (event.pointerId !== pointerId) return;
    finish(stroke);
    stroke = null;
    pointerId = null;
    changed();
  }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("lostpointercapture", end); // e.g. the window lost focus mid-stroke
  canvas.addEventListener("contextmenu", (event) => event.preventDefault()); // long press on touch

  // --- prediction -----------------------------------------------------------------------------

  let inFlight = false; // never more than one request at a time...
  let again = false; // ...but remember that the drawing changed meanwhile
  let timer = 0;

  // Another mode may show the answer itself (number.js: whole numbers): it cancels this event.
  const taken = (detail) => !app.dispatchEvent(new CustomEvent("digitrec:answer", { detail, cancelable: true }));

  function changed() {
    if (live.checked && !timer) timer = setTimeout(predict, LIVE_INTERVAL_MS);
  }

  async function predict() {
    clearTimeout(timer);
    timer = 0;
    if (!strokes.length) {
      if (!taken({ blank: true })) showBlank();
      return;
    }
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    const sent = drawing;
    result.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(app.dataset.api, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        // the name typed (feedback.js): after "Learn my handwriting" that user's own model answers
        body: JSON.stringify({ image: canvas.toDataURL("image/png"), user: window.digitrecFeedback?.name() || undefined }),
      });
      const body = await response.json().catch(() => ({}));
      if (sent !== drawing || taken({ status: response.status, body })) return; // cleared meanwhile, or shown
      if (!response.ok) showError(body.error || `The server answered ${response.status}.`);
      else if (body.digit === null) showBlank();
      else show(body);
    } catch {
      const error = "Cannot reach the server. Is it still running?";
      if (sent === drawing && !taken({ error })) showError(error);
    } finally {
      inFlight = false;
      result.removeAttribute("aria-busy");
      if (again) {
        again = false;
        predict();
      }
    }
  }

  // Honest rounding, as digitrec.predict.format_percent: the network is never certain, so 0.99996
  // is ">99.9%" and a probability the API rounded to 0 is "<0.1%", never "100%" or "0.0%".
  const percent = (p) => (p >= 0.9995 ? ">99.9%" : p < 0.0005 ? "<0.1%" : `${(100 * p).toFixed(1)}%`);

  function show(answer) {
    const ranked = answer.probabilities.map((p, d) => [p, d]).sort((a, b) => b[0] - a[0]);
    digitEl.textContent = String(answer.digit);
    confidenceEl.textContent = `${percent(answer.confidence)} sure`;
    messageEl.textContent =
      answer.confidence >= 0.8
        ? `That is a ${answer.digit}.`
        : `Not sure: maybe a ${ranked[0][1]}, maybe a ${ranked[1][1]}.`;
    setBars(answer.probabilities, answer.digit);
    if (answer.model_input) {
      modelInput.src = answer.model_input;
      modelInput.hidden = false;
    }
    result.dataset.state = "done";
  }

  function showBlank() {
    reset("The canvas is blank: draw a digit first.");
    result.dataset.state = "blank";
  }

  function showError(text) {
    reset(text);
    result.dataset.state = "error";
  }

  function reset(message) {
    digitEl.textContent = "";
    confidenceEl.textContent = "";
    messageEl.textContent = message;
    modelInput.hidden = true;
    modelInput.removeAttribute("src");
    setBars(null, null);
    result.dataset.state = "idle";
  }

  function setBars(probabilities, top) {
    bars.forEach((li, d) => {
      const p = probabilities ? probabilities[d] : 0;
      li.style.setProperty("--p", p.toFixed(4)); // CSSOM, not a style attribute: fine under the CSP
      li.querySelector(".pct").textContent = probabilities ? percent(p) : "–";
      li.classList.toggle("top", d === top);
    });
  }

  function clear() {
    clearTimeout(timer);
    timer = 0;
    again = false;
    drawing += 1;
    strokes.length = 0;
    stroke = null;
    pointerId = null;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    paper.setAttribute("data-empty", "");
    reset(HINT);
  }

  $("predict").addEventListener("click", predict);
  $("clear").addEventListener("click", clear);
  live.addEventListener("change", () => live.checked && strokes.length && predict());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") clear();
  });
  new ResizeObserver(fit).observe(canvas);
  fit();
})();
