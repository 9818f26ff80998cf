/* WebAuthn ceremonies for RecTrack (app/mfa/views.py): add a security key or passkey,
   use one as the second step or to confirm it is you, and sign in with a passkey alone.
   Each [data-webauthn] block names its purpose and the two URLs: the options (with the
   challenge the server keeps in the session) and where the browser's answer goes. The
   server answers {redirect: url} or {error: message}. No inline script: CSP. */
(() => {
  const b64urlToBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  };
  const bytesToB64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

  const csrfToken = () => {
    const input = document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  };

  const post = async (url, body) => {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok) {
      throw new Error(data.error || "RecTrack could not check the key. Reload the page and try again.");
    }
    return data;
  };

  const creationOptions = (json) => {
    const options = { ...json, challenge: b64urlToBytes(json.challenge) };
    options.user = { ...json.user, id: b64urlToBytes(json.user.id) };
    options.excludeCredentials = (json.excludeCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) }));
    options.extensions = { ...(json.extensions || {}), credProps: true };
    return options;
  };

  const requestOptions = (json) => ({
    ...json,
    challenge: b64urlToBytes(json.challenge),
    allowCredentials: (json.allowCredentials || []).map((c) => ({ ...c, id: b64urlToBytes(c.id) })),
  });

  const registrationJSON = (credential) => ({
    id: credential.id,
    rawId: bytesToB64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: bytesToB64url(credential.response.clientDataJSON),
      attestationObject: bytesToB64url(credential.response.attestationObject),
      transports: credential.response.getTransports ? credential.response.getTransports() : [],
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
  });

  const assertionJSON = (credential) => ({
    id: credential.id,
    rawId: bytesToB64url(credential.rawId),
    type: credential.type,
    response: {
      clientDataJSON: bytesToB64url(credential.response.clientDataJSON),
      authenticatorData: bytesToB64url(credential.response.authenticatorData),
      signature: bytesToB64url(credential.response.signature),
      userHandle: credential.response.userHandle ? bytesToB64url(credential.response.userHandle) : null,
    },
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment,
  });

  const run = async (block) => {
    const purpose = block.dataset.purpose;
    const options = await post(block.dataset.optionsUrl, { purpose });
    if (purpose === "register") {
      const nameInput = block.querySelector("[data-webauthn-name]");
      const credential = await navigator.credentials.create({ publicKey: creationOptions(options) });
      return post(block.dataset.assertUrl, { name: nameInput ? nameInput.value : "", credential: registrationJSON(credential) });
    }
    const credential = await navigator.credentials.get({ publicKey: requestOptions(options) });
    return post(block.dataset.assertUrl, { purpose, credential: assertionJSON(credential) });
  };

  document.addEventListener("DOMContentLoaded", () => {
    if (!window.PublicKeyCredential) {
      return; // the other ways (a code, a recovery code, the password) stay
    }
    document.querySelectorAll("[data-webauthn]").forEach((block) => {
      block.hidden = false;
      const button = block.querySelector("[data-webauthn-start]");
      const alert = block.querySelector("[data-webauthn-error]");
      button.addEventListener("click", async () => {
        alert.hidden = true;
        const name = block.querySelector("[data-webauthn-name]");
        if (name && !name.value.trim()) {
          alert.querySelector("p").textContent = "Give the key a name first.";
          alert.hidden = false;
          name.focus();
          return;
        }
        button.disabled = true;
        try {
          const result = await run(block);
          window.location.assign(result.redirect);
        } catch (error) {
          const cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
          alert.querySelector("p").textContent = cancelled
            ? "The browser did not use a key (cancelled, or it timed out). Try again."
            : error.message;
          alert.hidden = false;
          alert.focus && alert.setAttribute("tabindex", "-1");
          alert.focus();
        } finally {
          button.disabled = false;
        }
      });
    });
  });
})();
