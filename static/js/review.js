// Reviewer work page: ask the API for the next item, render it, answer it with the keyboard, post the
// answer and load the next item in place (no page reload). Time spent on each item is measured
// from the moment its images are on screen to the moment the answer is sent.
(function () {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const tasks = { rating: $("task-rating"), pairwise: $("task-pairwise"), blind: $("task-blind") };
  const scales = Array.from(document.querySelectorAll("#scales .scale"));
  let current = null; // {assignment, answer state}
  let shownAt = 0;
  let busy = false;
  let ready = false; // the current item is on screen and no answer is on its way

  function showError(message) {
    const box = $("review-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function setRadio(group, value) {
    group.querySelectorAll("button[data-value]").forEach((b) => {
      b.setAttribute("aria-checked", String(b.dataset.value === String(value)));
    });
    group.dataset.selected = value == null ? "" : String(value);
  }

  function focusScale(index) {
    current.scale = Math.max(0, Math.min(scales.length - 1, index));
    scales.forEach((s, i) => s.classList.toggle("focused", i === current.scale));
    scales[current.scale].focus({ preventScroll: true });
  }

  function resetForms() {
    scales.forEach((s) => setRadio(s, null));
    document.querySelectorAll("input[name=flag]").forEach((c) => { c.checked = false; });
    document.querySelectorAll("input[name=reason]").forEach((r) => { r.checked = false; });
    document.querySelectorAll("[data-choice], [data-answer]").forEach((b) => b.classList.remove("chosen"));
    setRadio($("blind-confidence"), null);
    $("rating-comment").value = "";
    $("expert-note").value = "";
    $("pair-choice").textContent = "—";
    $("blind-answer").textContent = "—";
  }

  function loadImages(images) {
    const waits = Object.values(images).map(() => null);
    const pairs = {
      headshot: "rating-headshot", reference: current.kind === "pairwise" ? "pair-reference" : "rating-reference",
      left: "pair-left", right: "pair-right", image: "blind-image",
    };
    Object.entries(images).forEach(([side, url], i) => {
      const img = $(pairs[side]);
      waits[i] = new Promise((resolve) => { img.onload = img.onerror = resolve; });
      img.src = url;
    });
    return Promise.all(waits);
  }

  async function api(url, options) {
    const response = await fetch(url, Object.assign({
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
    }, options || {}));
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    return { ok: response.ok, status: response.status, body };
  }

  // Load the next item. When the API hands back the item on screen (its lease ran out before the
  // answer arrived and nobody else took it), the answer given so far is kept.
  async function next() {
    ready = false;
    const previous = current;
    showError("");
    Object.values(tasks).forEach((t) => { t.hidden = true; });
    $("submit-row").hidden = true;
    $("expert").hidden = true;
    $("review-loading").hidden = false;
    const { ok, body } = await api(root.dataset.nextUrl, { method: "GET" });
    $("review-loading").hidden = true;
    if (!ok) {
      current = null; // nothing on screen to answer: keys must not resend the last answer
      showError((body.detail || "Could not load the next item.") + " Reload the page to try again.");
      return;
    }
    $("done-count").textContent = body.done;
    if (!body.assignment) {
      current = null;
      $("no-work").hidden = false;
      $("no-work-detail").textContent = body.detail || "No work left.";
      return;
    }
    const a = body.assignment;
    const same = previous && previous.id === a.id && previous.kind === a.kind;
    current = same ? previous : { id: a.id, kind: a.kind, scale: 0, choice: null, answer: null };
    if (!same) resetForms();
    await loadImages(a.images);
    tasks[a.kind].hidden = false;
    tasks[a.kind].dataset.assignment = a.id;
    $("expert").hidden = !a.expert_notes;
    $("submit-row").hidden = false;
    if (a.kind === "rating") focusScale(current.scale);
    else document.activeElement && document.activeElement.blur && document.activeElement.blur();
    if (!same) shownAt = performance.now();
    ready = true;
  }

  function choose(choice) {
    current.choice = choice;
    document.querySelectorAll("[data-choice]").forEach((b) => b.classList.toggle("chosen", b.dataset.choice === choice));
    $("pair-choice").textContent = { left: "Left", right: "Right", tie: "Can't tell" }[choice];
  }

  function answerBlind(answer) {
    current.answer = answer;
    document.querySelectorAll("[data-answer]").forEach((b) => b.classList.toggle("chosen", b.dataset.answer === answer));
    $("blind-answer").textContent = answer === "ai" ? "AI-generated" : "Studio photograph";
  }

  function payload() {
    const base = {
      assignment: current.id,
      time_spent_ms: Math.round(performance.now() - shownAt),
      expert_note: $("expert").hidden ? "" : $("expert-note").value,
    };
    if (current.kind === "rating") {
      const values = {};
      for (const s of scales) {
        if (!s.dataset.selected) return { error: "Give all three scales a score from 1 to 5 (" + s.dataset.dimension + " is missing)." };
        values[s.dataset.dimension] = Number(s.dataset.selected);
      }
      const flags = Array.from(document.querySelectorAll("input[name=flag]:checked")).map((c) => c.value);
      return { url: root.dataset.ratingUrl, body: Object.assign(base, values, { flags, comment: $("rating-comment").value }) };
    }
    if (current.kind === "pairwise") {
      if (!current.choice) return { error: "Choose left, right or can't tell first." };
      const reason = document.querySelector("input[name=reason]:checked");
      return { url: root.dataset.comparisonUrl, body: Object.assign(base, { choice: current.choice, reason: reason ? reason.value : "" }) };
    }
    const confidence = $("blind-confidence").dataset.selected;
    if (!current.answer || !confidence) return { error: "Say AI or studio, and how sure you are (1 to 5)." };
    return { url: root.dataset.blindUrl, body: Object.assign(base, { answer: current.answer, confidence: Number(confidence) }) };
  }

  async function submit() {
    if (!current || !ready || busy) return;
    const request = payload();
    if (request.error) { showError(request.error); return; }
    busy = true;
    ready = false;
    try {
      const { ok, body } = await api(request.url, { method: "POST", body: JSON.stringify(request.body) });
      if (!ok) {
        const message = body.detail || "The answer was not stored.";
        if (body.code === "assignment_expired" || body.code === "not_your_assignment") {
          await next();
          if (current && current.id === request.body.assignment) {
            showError("Your time on this item ran out, but it is still yours: press Enter to send your answer again.");
          } else {
            showError(message + " Your answer to it was not stored.");
          }
        } else {
          showError(message);
          ready = true;
        }
        return;
      }
      await next();
    } finally {
      busy = false;
    }
  }

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text"));
  }

  document.addEventListener("keydown", (event) => {
    if (!current || event.altKey || event.metaKey || event.isComposing) return;
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); if (current.kind === "rating") focusScale(current.scale); }
      else if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); if (!event.repeat) submit(); }
      return;
    }
    if (event.ctrlKey || !ready) return;
    const key = event.key;
    // A held key repeats: only the arrows may (a held letter would flip its flag on and off, a held
    // Enter would send the next item's answer as well).
    if (event.repeat && !key.startsWith("Arrow")) { event.preventDefault(); return; }
    if (key === "Enter") { event.preventDefault(); submit(); return; }
    if (current.kind === "rating") {
      if (/^[1-5]$/.test(key)) {
        setRadio(scales[current.scale], key);
        if (current.scale < scales.length - 1) focusScale(current.scale + 1);
        event.preventDefault();
      } else if (key === "ArrowDown" || key === "ArrowRight") { focusScale(current.scale + 1); event.preventDefault(); }
      else if (key === "ArrowUp" || key === "ArrowLeft") { focusScale(current.scale - 1); event.preventDefault(); }
      else if (/^[a-z]$/i.test(key)) {
        const flag = document.querySelector('input[name=flag][data-key="' + key.toLowerCase() + '"]');
        if (flag) { flag.checked = !flag.checked; event.preventDefault(); }
      }
    } else if (current.kind === "pairwise") {
      const choice = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "tie" }[key];
      const reason = { p: "professional", l: "likeness", a: "appeal" }[key.toLowerCase()];
      if (choice) { choose(choice); event.preventDefault(); }
      else if (reason) {
        const radio = document.querySelector('input[name=reason][value="' + reason + '"]');
        radio.checked = !radio.checked; // the same letter again clears the (optional) reason
        event.preventDefault();
      }
    } else if (current.kind === "blind") {
      if (key.toLowerCase() === "a") { answerBlind("ai"); event.preventDefault(); }
      else if (key.toLowerCase() === "s") { answerBlind("studio"); event.preventDefault(); }
      else if (/^[1-5]$/.test(key)) { setRadio($("blind-confidence"), key); event.preventDefault(); }
    }
  });

  // The same answers by mouse or touch.
  scales.forEach((scale, i) => scale.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-value]");
    if (button) { setRadio(scale, button.dataset.value); focusScale(i); }
  }));
  $("blind-confidence").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-value]");
    if (button) setRadio($("blind-confidence"), button.dataset.value);
  });
  document.querySelectorAll("[data-choice]").forEach((b) => b.addEventListener("click", () => choose(b.dataset.choice)));
  document.querySelectorAll("[data-answer]").forEach((b) => b.addEventListener("click", () => answerBlind(b.dataset.answer)));
  $("submit").addEventListener("click", submit);

  next();
})();
