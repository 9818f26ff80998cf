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
