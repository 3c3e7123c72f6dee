// Reviewer work page: ask the API for the next item, render it, answer it with the keyboard, post the
// answer and load the next item in place (no page reload). Time spent on each item is measured
// from the moment its images are on screen to the moment the answer is sent.
//
// One key means one thing on every kind of item (the guidelines dialog lists them): 1-5 a score,
// P/L/A the three dimensions (a rating's scale, a pairwise reason), arrows pick a side (left/right,
// AI/studio) or move between rating scales, a flag's letter marks it, N the comment or note, Z zoom,
// X skip, U undo, ? the guidelines, Enter sends.
(function () {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const tasks = { rating: $("task-rating"), pairwise: $("task-pairwise"), blind: $("task-blind") };
  const scales = Array.from(document.querySelectorAll("#scales .scale"));
  const DIMENSION_KEYS = { p: "professionalism", l: "likeness", a: "appeal" };
  const REASON_KEYS = { p: "professional", l: "likeness", a: "appeal" };
  const seenKey = "guidelines-seen-" + root.dataset.campaign;
  let current = null; // {id, kind, scale, choice, answer}
  let lastAnswered = null; // {id} of the answer that U may take back
  let shownAt = 0;
  let busy = false;
  let ready = false; // the current item is on screen and no answer is on its way

  function showError(message) {
    const box = $("review-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function showNotice(message) {
    const box = $("review-notice");
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
    const pairs = {
      headshot: "rating-headshot", reference: current.kind === "pairwise" ? "pair-reference" : "rating-reference",
      left: "pair-left", right: "pair-right", image: "blind-image",
    };
    return Promise.all(Object.entries(images).map(([side, url]) => {
      const img = $(pairs[side]);
      const loaded = new Promise((resolve) => { img.onload = img.onerror = resolve; });
      img.src = url;
      return loaded;
    }));
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

  // "12 of 40 answered · about 6 min left · 1 skipped"
  function showProgress(p) {
    let rest = " of " + p.total + " answered";
    if (p.remaining > 0) {
      rest += " · " + (p.minutes_left < 1 ? "under a minute" : "about " + Math.round(p.minutes_left) + " min") + " left";
    }
    if (p.skipped) rest += " · " + p.skipped + " skipped";
    const strong = document.createElement("strong");
    strong.id = "done-count";
    strong.dataset.testid = "done-count";
    strong.textContent = String(p.done);
    $("progress-line").replaceChildren(strong, document.createTextNode(rest));
  }

  function percent(value) { return value == null ? "—" : Math.round(100 * value) + "%"; }

  async function showStanding() {
    const { ok, body } = await api(root.dataset.standingUrl, { method: "GET" });
    if (!ok) return;
    const box = $("standing");
    box.querySelectorAll("[data-you]").forEach((cell) => {
      const key = cell.dataset.you;
      const value = body.you[key];
      cell.textContent = key === "median_seconds" ? (value == null ? "—" : value + " s") : percent(value);
      if (key === "gold_accuracy" && body.you.gold_answered) cell.textContent += " of " + body.you.gold_answered;
    });
    box.querySelectorAll("[data-others]").forEach((cell) => {
      const key = cell.dataset.others;
      const value = body.others[key];
      if (body.others.reviewers == null) { cell.textContent = "too few reviewers yet"; return; }
      cell.textContent = key === "median_seconds" ? (value == null ? "—" : value + " s") : percent(value);
    });
    box.hidden = false;
  }

  // Load the next item. When the API hands back the item on screen (its lease ran out before the
  // answer arrived and nobody else took it), the answer given so far is kept; ``restore`` fills in an
  // undone answer.
  async function next(restore) {
    ready = false;
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
    await show(body, restore);
  }

  // Put an item (the body of GET /api/review/next/, or the ``next`` an answer came back with) on screen.
  async function show(body, restore) {
    ready = false;
    showError("");
    const previous = current;
    Object.values(tasks).forEach((t) => { t.hidden = true; });
    $("submit-row").hidden = true;
    $("expert").hidden = true;
    showProgress(body.progress);
    if (!body.assignment) {
      current = null;
      $("no-work").hidden = false;
      $("no-work-detail").textContent = body.detail || "No work left.";
      showStanding();
      return;
    }
    $("no-work").hidden = true;
    const a = body.assignment;
    const same = previous && previous.id === a.id && previous.kind === a.kind;
    current = same ? previous : { id: a.id, kind: a.kind, scale: 0, choice: null, answer: null };
    if (!same) resetForms();
    await loadImages(a.images);
    tasks[a.kind].hidden = false;
    tasks[a.kind].dataset.assignment = a.id;
    $("expert").hidden = !a.expert_notes;
    $("submit-row").hidden = false;
    if (restore && restore.assignment === a.id) fill(restore.kind, restore.answer);
    if (a.kind === "rating") focusScale(current.scale);
    else document.activeElement && document.activeElement.blur && document.activeElement.blur();
    if (!same) shownAt = performance.now();
    ready = true;
  }

  // The fields of an undone answer back on the page.
  function fill(kind, answer) {
    if (kind === "rating") {
      scales.forEach((s) => setRadio(s, answer[s.dataset.dimension]));
      document.querySelectorAll("input[name=flag]").forEach((c) => { c.checked = (answer.flags || []).includes(c.value); });
      $("rating-comment").value = answer.comment || "";
    } else if (kind === "pairwise") {
      choose(answer.choice);
      const reason = document.querySelector('input[name=reason][value="' + answer.reason + '"]');
      if (reason) reason.checked = true;
    } else {
      answerBlind(answer.answer);
      setRadio($("blind-confidence"), answer.confidence);
    }
    $("expert-note").value = answer.expert_note || "";
  }

  function choose(choice) {
    current.choice = choice;
    showError("");
    document.querySelectorAll("[data-choice]").forEach((b) => b.classList.toggle("chosen", b.dataset.choice === choice));
    $("pair-choice").textContent = { left: "Left", right: "Right", tie: "Can't tell" }[choice];
  }

  function answerBlind(answer) {
    current.answer = answer;
    showError("");
    document.querySelectorAll("[data-answer]").forEach((b) => b.classList.toggle("chosen", b.dataset.answer === answer));
    $("blind-answer").textContent = answer === "ai" ? "AI-generated" : "Studio photograph";
  }

  function score(group, value) {
    setRadio(group, value);
    showError("");
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

  function setUndo(assignmentId) {
    lastAnswered = assignmentId == null ? null : { id: assignmentId };
    $("undo").hidden = lastAnswered == null;
  }

  async function submit() {
    if (!current || !ready || busy) return;
    const request = payload();
    if (request.error) { showError(request.error); return; }
    busy = true;
    ready = false;
    try {
      // One round trip per item: the answer's response brings the next item.
      const { ok, body } = await api(request.url, { method: "POST", body: JSON.stringify(Object.assign({ next: true }, request.body)) });
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
      setUndo(request.body.assignment);
      showNotice("");
      if (body.next) await show(body.next);
      else await next();
    } finally {
      busy = false;
    }
  }

  async function skip() {
    if (!current || !ready || busy) return;
    busy = true;
    ready = false;
    try {
      const { ok, body } = await api(root.dataset.skipUrl, { method: "POST", body: JSON.stringify({ assignment: current.id }) });
      if (!ok) { showError(body.detail || "Could not skip this item."); ready = true; return; }
      showNotice("Skipped: the item goes to someone else.");
      await next();
    } finally {
      busy = false;
    }
  }

  async function undo() {
    if (!lastAnswered || busy) return;
    busy = true;
    ready = false;
    try {
      const { ok, body } = await api(root.dataset.undoUrl, { method: "POST", body: JSON.stringify({ assignment: lastAnswered.id }) });
      setUndo(null);
      if (!ok) { showError(body.detail || "The answer could not be undone."); ready = current != null; return; }
      showNotice("Your last answer was taken back: change it and send it again.");
      current = null; // the undone item comes back first; the one on screen stays yours for later
      await next(body);
    } finally {
      busy = false;
    }
  }

  function zoomOpen() {
    if (!current) return;
    const box = $("zoom-images");
    box.innerHTML = "";
    tasks[current.kind].querySelectorAll("img.zoomable").forEach((img) => {
      const figure = document.createElement("figure");
      const big = document.createElement("img");
      big.src = img.src;
      big.alt = img.alt + " (enlarged)";
      const caption = document.createElement("figcaption");
      caption.textContent = img.alt;
      figure.append(big, caption);
      box.append(figure);
    });
    $("zoom").showModal();
  }

  function guidelinesOpen() {
    if (!$("guidelines").open) $("guidelines").showModal();
  }

  function noteFocus() {
    const box = current && current.kind === "rating" ? $("rating-comment") : $("expert-note");
    if (!box.closest("[hidden]")) { box.focus(); return true; }
    return false;
  }

  function typing(target) {
    return target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type === "text"));
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.metaKey || event.isComposing) return;
    if ($("guidelines").open || $("zoom").open) {
      if ($("zoom").open && (event.key === "z" || event.key === "Z")) { $("zoom").close(); event.preventDefault(); }
      return; // Esc closes a dialog (the browser's own)
    }
    if (typing(event.target)) {
      if (event.key === "Escape") { event.target.blur(); if (current && current.kind === "rating") focusScale(current.scale); }
      else if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); if (!event.repeat) submit(); }
      return;
    }
    if (event.ctrlKey) return;
    const key = event.key;
    const letter = key.length === 1 ? key.toLowerCase() : "";
    if (key === "?") { guidelinesOpen(); event.preventDefault(); return; }
    if (letter === "u") { if (!event.repeat) undo(); event.preventDefault(); return; }
    if (!current || !ready) return;
    // A held key repeats: only the arrows may (a held letter would flip its flag on and off, a held
    // Enter would send the next item's answer as well).
    if (event.repeat && !key.startsWith("Arrow")) { event.preventDefault(); return; }
    if (key === "Enter") { event.preventDefault(); submit(); return; }
    if (letter === "x") { skip(); event.preventDefault(); return; }
    if (letter === "z") { zoomOpen(); event.preventDefault(); return; }
    if (letter === "n") { if (noteFocus()) event.preventDefault(); return; }
    if (current.kind === "rating") {
      if (/^[1-5]$/.test(key)) {
        score(scales[current.scale], key);
        if (current.scale < scales.length - 1) focusScale(current.scale + 1);
        event.preventDefault();
      } else if (key === "ArrowDown" || key === "ArrowRight") { focusScale(current.scale + 1); event.preventDefault(); }
      else if (key === "ArrowUp" || key === "ArrowLeft") { focusScale(current.scale - 1); event.preventDefault(); }
      else if (DIMENSION_KEYS[letter]) {
        focusScale(scales.findIndex((s) => s.dataset.dimension === DIMENSION_KEYS[letter]));
        event.preventDefault();
      } else if (/^[a-z]$/.test(letter)) {
        const flag = document.querySelector('input[name=flag][data-key="' + letter + '"]');
        if (flag) { flag.checked = !flag.checked; showError(""); event.preventDefault(); }
      }
    } else if (current.kind === "pairwise") {
      const choice = { ArrowLeft: "left", ArrowRight: "right", ArrowDown: "tie" }[key];
      const reason = REASON_KEYS[letter];
      if (choice) { choose(choice); event.preventDefault(); }
      else if (reason) {
        const radio = document.querySelector('input[name=reason][value="' + reason + '"]');
        radio.checked = !radio.checked; // the same letter again clears the (optional) reason
        event.preventDefault();
      }
    } else if (current.kind === "blind") {
      if (key === "ArrowLeft") { answerBlind("ai"); event.preventDefault(); }
      else if (key === "ArrowRight") { answerBlind("studio"); event.preventDefault(); }
      else if (/^[1-5]$/.test(key)) { score($("blind-confidence"), key); event.preventDefault(); }
    }
  });

  // The same answers by mouse or touch.
  scales.forEach((scale, i) => scale.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-value]");
    if (button) { score(scale, button.dataset.value); focusScale(i); }
  }));
  $("blind-confidence").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-value]");
    if (button) score($("blind-confidence"), button.dataset.value);
  });
  document.querySelectorAll("[data-choice]").forEach((b) => b.addEventListener("click", () => choose(b.dataset.choice)));
  document.querySelectorAll("[data-answer]").forEach((b) => b.addEventListener("click", () => answerBlind(b.dataset.answer)));
  document.querySelectorAll("input[name=flag]").forEach((c) => c.addEventListener("change", () => showError("")));
  document.querySelectorAll("img.zoomable").forEach((img) => img.addEventListener("click", zoomOpen));
  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", skip);
  $("undo").addEventListener("click", undo);
  $("show-guidelines").addEventListener("click", guidelinesOpen);

  // Guidelines on the first visit (per campaign, in this browser), and whenever asked with "?".
  let seen = false;
  try { seen = window.localStorage.getItem(seenKey) === "1"; } catch (e) { seen = false; }
  if (!seen && root.dataset.hasGuidelines) {
    guidelinesOpen();
    try { window.localStorage.setItem(seenKey, "1"); } catch (e) { /* private mode: shown again next time */ }
  }
  $("guidelines").addEventListener("close", () => { if (current && current.kind === "rating") focusScale(current.scale); });
  next();
})();
