/* RecTrack's own script (USWDS does the rest). */

// After a failed submit the page comes back with a summary of what went wrong: move the
// focus there (the USWDS form pattern), so keyboard and screen-reader users start from it
// rather than from the top of the page.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }
});

// A background job's page (templates/jobs/detail.html): poll its status and, when the
// file is ready, turn the progress into the download without reloading the page. With
// scripts off the page refreshes itself instead (a <noscript> refresh).
document.addEventListener("DOMContentLoaded", () => {
  const job = document.getElementById("job");
  if (!job || !["queued", "running"].includes(job.dataset.state)) {
    return;
  }
  const label = job.querySelector("[data-job-label]");
  const stage = job.querySelector("[data-job-stage]");
  const bar = job.querySelector("progress");
  const tick = async () => {
    let status;
    try {
      const response = await fetch(job.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      status = await response.json();
    } catch (error) {
      window.setTimeout(tick, 3000);
      return;
    }
    label.textContent = status.label;
    stage.textContent = status.stage + (status.total ? ` (${status.done || 0} of ${status.total})` : "");
    if (status.percent !== null) {
      bar.value = status.percent;
      bar.textContent = `${status.percent}%`;
    }
    if (status.state === "done" && status.download) {
      const ready = job.querySelector("[data-job-ready]");
      const link = ready.querySelector("[data-job-download]");
      link.href = status.download;
      link.textContent = status.summary ? "Download this summary" : `Download ${status.file}`;
      if (status.summary) {
        stage.textContent = status.summary;
      }
      ready.hidden = false;
      bar.value = 100;
      job.dataset.state = "done";
      link.focus();
      return;
    }
    if (status.state === "failed" || status.state === "expired") {
      window.location.reload(); // the page shows the reason and a button to try again
      return;
    }
    window.setTimeout(tick, 1000);
  };
  window.setTimeout(tick, 500);
});
