/* The session-limit warning (templates/auth/_session_modal.html). The server ends a
   session after SESSION_IDLE_MINUTES without activity or SESSION_MAX_HOURS after sign-in
   (app/auth/sessions.py) whatever this script does; the script only warns two minutes
   before, offers "Stay signed in" (a POST to the keep-alive endpoint, with the CSRF
   token), and reloads the page when the time is up, so the server sends it to sign in.
   It asks the status endpoint before warning: another tab may have been active. */
(() => {
  const root = document.getElementById("rt-session");
  const modal = document.getElementById("rt-session-modal");
  const opener = document.getElementById("rt-session-open");
  if (!root || !modal || !opener) {
    return;
  }
  const warnSeconds = Number(root.dataset.warnSeconds) || 120;
  let timer = null;
  let countdown = null;
  let open = false;

  const words = (seconds) => {
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return minutes === 1 ? "1 minute" : `${minutes} minutes`;
    }
    return seconds === 1 ? "1 second" : `${seconds} seconds`;
  };

  const signInAgain = (body) => {
    if (body && body.login_url) {
      window.location.assign(body.login_url);
    } else {
      window.location.reload(); // the server answers with the sign-in page
    }
  };

  const status = async (url, options) => {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, ...options });
    const body = await response.json().catch(() => null);
    if (response.status === 401 || !response.ok || !body || body.expired) {
      signInAgain(body);
      return null;
    }
    return body;
  };

  const close = () => {
    if (open) {
      open = false;
      const closer = modal.querySelector("[data-close-modal]");
      if (closer && modal.closest(".is-visible")) {
        closer.click();
      }
    }
    window.clearInterval(countdown);
  };

  const show = (absolute, seconds) => {
    modal.querySelector("[data-idle-text]").hidden = absolute;
    modal.querySelector("[data-absolute-text]").hidden = !absolute;
    modal.querySelector("[data-stay]").closest("li").hidden = absolute;
    modal.querySelector("[data-absolute-only]").hidden = !absolute;
    const ends = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.round((ends - Date.now()) / 1000));
      modal.querySelectorAll("[data-countdown]").forEach((span) => {
        span.textContent = words(left);
      });
      if (left <= 0) {
        window.clearInterval(countdown);
        window.location.reload();
      }
    };
    tick();
    window.clearInterval(countdown);
    countdown = window.setInterval(tick, 1000);
    if (!open) {
      open = true;
      opener.click();
    }
  };

  const schedule = (body) => {
    window.clearTimeout(timer);
    const absolute = body.absolute_seconds <= body.idle_seconds;
    const left = Math.min(body.idle_seconds, body.absolute_seconds);
    if (left <= warnSeconds) {
      show(absolute, left);
      return;
    }
    close();
    timer = window.setTimeout(check, (left - warnSeconds) * 1000);
  };

  const check = async () => {
    try {
      const body = await status(root.dataset.statusUrl);
      if (body) {
        schedule(body);
      }
    } catch (error) {
      timer = window.setTimeout(check, 15000); // the server did not answer: ask again soon
    }
  };

  modal.querySelector("[data-stay]").addEventListener("click", async () => {
    window.clearInterval(countdown);
    open = false;
    try {
      const body = await status(root.dataset.keepAliveUrl, {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": root.dataset.csrfToken },
      });
      if (body) {
        schedule(body);
      }
    } catch (error) {
      window.location.reload();
    }
  });
  const dismiss = modal.querySelector("[data-dismiss]");
  dismiss.addEventListener("click", () => {
    open = false; // the countdown goes on; the page reloads when the session ends
  });

  check();
})();
