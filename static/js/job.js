// Live job page: poll the job's API resource and update the bar, status, log and result in place.
(function () {
  "use strict";
  const root = document.getElementById("job");
  if (!root) return;
  const url = root.dataset.jobUrl;
  const $ = (id) => document.getElementById(id);
  const fmt = (iso) => (iso ? iso.replace("T", " ").slice(0, 19) : "—");
  let delay = 1000;

  function render(job) {
    const status = $("job-status");
    status.textContent = job.status;
    status.className = "status status-" + job.status;
    $("job-message").textContent = job.message;
    const bar = $("job-progress");
    bar.setAttribute("aria-valuenow", job.progress);
    bar.querySelector(".bar-fill").style.width = job.progress + "%";
    bar.querySelector(".bar-label").textContent = job.progress + "%";
    $("job-started").textContent = fmt(job.started_at);
    $("job-finished").textContent = fmt(job.finished_at);
    $("job-attempts").textContent = job.attempts;
    $("job-log").textContent = job.log_tail;
    $("job-log").hidden = !job.log_tail;
    $("job-log-empty").hidden = Boolean(job.log_tail);
    $("job-result").textContent = Object.keys(job.result).length ? JSON.stringify(job.result, null, 2) : "";
    if (job.is_finished) renderFinished(job);
    const error = $("job-error");
    error.hidden = !job.error;
    error.textContent = job.error;
    const cancel = $("job-cancel");
    if (cancel && job.is_finished) cancel.remove();
    drawCurves(job.result || {});
  }

  // What the job made, and its result in words, once it has finished (the page may have been opened
  // while it ran).
  function renderFinished(job) {
    const links = $("job-links");
    links.replaceChildren(...(job.links.length ? job.links.map((link) => {
      const item = document.createElement("li");
      const a = document.createElement("a");
      a.href = link.url;
      a.textContent = link.label;
      item.append(a);
      return item;
    }) : [Object.assign(document.createElement("li"), { className: "muted", textContent: "Nothing to link to." })]));
    // The result in words, as the server words it (hfplatform.jobs.selectors.job_result_summary).
    const summary = $("job-summary");
    const rows = (job.summary || []).flatMap(([label, text]) => {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = text;
      return [dt, dd];
    });
    if (rows.length) summary.replaceChildren(...rows);
  }

  // Loss curve (and eval accuracy, when the job reports one) as an inline SVG, redrawn on each poll.
  function drawCurves(result) {
    const figure = $("job-chart");
    const loss = result.loss_curve || [];
    if (!figure || loss.length < 2) return;
    const evals = result.eval_curve || [];
    const W = 520, H = 180, P = 34;
    const steps = loss.map((p) => p[0]).concat(evals.map((p) => p[0]));
    const x0 = Math.min(...steps), x1 = Math.max(...steps) || 1;
    const values = loss.map((p) => p[1]);
    const y0 = Math.min(...values), y1 = Math.max(...values);
    const sx = (s) => P + ((s - x0) / ((x1 - x0) || 1)) * (W - 2 * P);
    const sy = (v, lo, hi) => H - P - ((v - lo) / ((hi - lo) || 1)) * (H - 2 * P);
    const line = loss.map((p) => sx(p[0]).toFixed(1) + "," + sy(p[1], y0, y1).toFixed(1)).join(" ");
    const dots = evals.map((p) => '<circle r="3" cx="' + sx(p[0]).toFixed(1) + '" cy="' + sy(p[1], 0, 1).toFixed(1) +
      '"><title>step ' + p[0] + ": accuracy " + p[1] + "</title></circle>").join("");
    const last = loss[loss.length - 1];
    const svg = '<svg role="img" viewBox="0 0 ' + W + " " + H + '" width="' + W + '" height="' + H + '" aria-label="loss ' +
      y1.toFixed(3) + " to " + last[1].toFixed(3) + '">' +
      '<polyline fill="none" stroke="currentColor" stroke-width="2" points="' + line + '"/>' + dots +
      '<text x="' + P + '" y="14" font-size="11">loss ' + y1.toFixed(3) + " → " + last[1].toFixed(3) + " (step " + last[0] + ")" +
      (evals.length ? " · held-out accuracy " + evals[evals.length - 1][1] : "") + "</text>" +
      '<text x="' + P + '" y="' + (H - 8) + '" font-size="11">step ' + x0 + '</text><text x="' + (W - P) +
      '" y="' + (H - 8) + '" font-size="11" text-anchor="end">' + x1 + "</text></svg>";
    figure.innerHTML = svg + figure.querySelector("figcaption").outerHTML;
    figure.hidden = false;
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const job = await response.json();
      render(job);
      delay = 1000;
      if (job.is_finished) return;
    } catch (err) {
      delay = Math.min(delay * 2, 15000); // back off while the server is unreachable
    }
    setTimeout(poll, delay);
  }

  const cancel = $("job-cancel");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      const token = document.querySelector("input[name=csrfmiddlewaretoken]").value;
      const response = await fetch(url + "cancel/", {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRFToken": token, Accept: "application/json" },
      });
      if (response.ok) render(await response.json());
    });
  }

  poll(); // a finished job renders once (its result and curves) and stops
})();
