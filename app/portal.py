"""The public portal's rate limit: anonymous visitors' requests to the portal pages
(app/__init__.py PORTAL_ENDPOINTS), counted per address in a moving window of
PORTAL_RATE_LIMIT, in the sign-in throttle's store (Redis in production; in memory
while it cannot be reached, app/auth/throttle.py). Signed-in users are never counted.
Over the limit: the 429 page, with Retry-After. The first refusal of an address in each
window is an audit event; the rest are only logged, so a flood cannot fill the trail."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, make_response, request
from limits import RateLimitItem, parse

from app import audit
from app.auth import throttle
from app.errors import render_error
from app.extensions import db
from app.observability import logs
from app.web import client_ip, note_access

EXTENSION_KEY = "rectrack_portal_limit"


class PortalLimit:
    """One moving window per address (an IPv6 /64 counts as one)."""

    def __init__(self, store: throttle.FallbackStore, rate: RateLimitItem) -> None:
        self.store, self.rate = store, rate
        self.first = parse(f"1 per {rate.multiples} {rate.GRANULARITY.name}")  # one audit event

    def first_refusal(self, ip: str | None) -> bool:
        """Whether this is the address's first refusal in the window."""
        ids = ("portal-refused", throttle.source_key(ip))
        return bool(self.store.run(lambda limiter: limiter.hit(self.first, *ids)))

    def hit(self, ip: str | None) -> int | None:
        """Count one request; None if allowed, else the seconds until one is allowed again."""
        return throttle.hit_or_wait(self.store, self.rate, "portal-address", throttle.source_key(ip))

    def reset(self) -> None:
        """Forget every count (tests): the store is the throttle's."""
        self.store.reset()


def init_app(app: Flask) -> None:
    """The app's portal limit, in the sign-in throttle's store (throttle.init_app first)."""
    rate = throttle.parse_rate(app.config["PORTAL_RATE_LIMIT"], "PORTAL_RATE_LIMIT", "120 per minute")
    app.extensions[EXTENSION_KEY] = PortalLimit(app.extensions[throttle.EXTENSION_KEY].store, rate)


def limit_anonymous() -> Any:
    """Count an anonymous portal request: None to go on, or the 429 page."""
    limit: PortalLimit = current_app.extensions[EXTENSION_KEY]
    wait = limit.hit(client_ip())
    if wait is None:
        return None
    logs.mark("refused", "portal rate limit")
    if limit.first_refusal(client_ip()):
        details = {"endpoint": request.endpoint, "path": request.path, "reason": "portal rate limit"}
        audit.set_actor(db.session, audit.AuditActor.anonymous(client_ip()))  # its hook has not run
        note_access("request", details=details, outcome="denied")
    detail = (
        f"This address sent more than {limit.rate.amount} requests in "
        f"{_window(limit.rate)}. Try again in {wait} second{'s' if wait != 1 else ''}. "
        "Signed-in users are not limited."
    )
    response = make_response(render_error(429, detail))
    response.headers["Retry-After"] = str(wait)
    return response


def _window(rate: RateLimitItem) -> str:
    unit = rate.GRANULARITY.name
    return f"{rate.multiples} {unit}s" if rate.multiples != 1 else f"a {unit}"
