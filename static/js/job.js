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
    $("job-result").textContent = Object.keys(job.result).length ? JSON.stringify(job.result, null, 2) : "";
    const error = $("job-error");
    error.hidden = !job.error;
    error.textContent = job.error;
    const cancel = $("job-cancel");
    if (cancel && job.is_finished) cancel.remove();
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

  if (root.dataset.finished !== "true") poll();
})();
