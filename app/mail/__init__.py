"""E-mail (issue 15): digests written to an outbox table and sent only by background
jobs, exactly once per idempotency key. README, "E-mail"."""
