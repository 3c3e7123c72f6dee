// Subject page: follow the photo-analysis job; when it ends, show the per-photo results.
(function () {
  "use strict";
  const box = document.getElementById("analysis");
  if (!box) return;
  const bar = box.querySelector(".bar");
  const status = box.querySelector("[data-testid=analysis-status]");
  async function poll() {
    try {
      const response = await fetch(box.dataset.jobUrl, { credentials: "same-origin" });
      const job = await response.json();
      status.textContent = job.status;
      status.className = "status status-" + job.status;
      bar.setAttribute("aria-valuenow", job.progress);
      bar.querySelector(".bar-fill").style.width = job.progress + "%";
      bar.querySelector(".bar-label").textContent = job.progress + "%";
      if (job.is_finished) { window.location.assign(box.dataset.doneUrl); return; }
    } catch (err) { /* retry below */ }
    setTimeout(poll, 1000);
  }
  if (!["succeeded", "failed", "cancelled"].includes(status.textContent.trim())) poll();
})();
