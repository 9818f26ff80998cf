"""Second factors (issue 17): WebAuthn security keys and passkeys, TOTP, recovery codes,
the policy saying who must use one, and the pages that enrol and check them."""
