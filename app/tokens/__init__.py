"""Personal access tokens for the JSON API (issue 16): made on the account page, shown
once, stored hashed, scoped, expiring within a year, revocable. README, "API tokens"."""
