"""Counters of failed sign-ins, and the store they live in.

Three moving windows, counted in the rate-limit store (Redis in production), each counting
failures only, never successful sign-ins:

- per address: failures from one address (an IPv6 /64 counts as one address), whatever
  the account. Stops one machine from trying a password against many accounts
  (password spraying).
- per address and account: failures from one address to one account. Stops one machine
  guessing one account.
- per account: failures to one account from sources the account has not signed in from.
  Stops many machines guessing one account, and slows only those unknown sources.

Which window applies to whom, and the cap on consecutive failures that NIST SP 800-63B
asks for, is decided in app/auth/services.py (authenticate), which explains the design.

E-mail addresses are keyed by an HMAC under the app's secret key, so the store never holds
what was typed into the e-mail field (sometimes a password).

When the store cannot be reached, the counters move to this process's memory with a
logged warning, and sign-in goes on: limits still hold, per process, and the store is
tried again every RECHECK_AFTER. Counts made during the outage are not carried back.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, MovingWindowSupport, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app import clock

log = logging.getLogger(__name__)

EXTENSION_KEY = "rectrack_login_throttle"
RECHECK_AFTER = timedelta(seconds=30)
# A store that does not answer must not hold a sign-in for long.
REDIS_OPTIONS: dict[str, Any] = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}

T = TypeVar("T")


@dataclass(frozen=True)
class Refusal:
    """A sign-in refused before the password was checked."""

    reason: str
    retry_after: int  # seconds


class FallbackStore:
    """A moving-window limiter on the configured store, or in memory while that fails."""

    def __init__(self, uri: str, storage: MovingWindowSupport | None = None) -> None:
        """`storage` stands in for the one `uri` names (tests)."""
        options = REDIS_OPTIONS if uri.split("://", 1)[0] in ("redis", "rediss", "redis+unix") else {}
        self.uri = uri
        primary = storage or storage_from_string(uri, wrap_exceptions=True, **options)
        # storage_from_string is typed as any Storage (async ones too); memory and Redis,
        # the stores configured here, support moving windows.
        self._primary = MovingWindowRateLimiter(primary)  # type: ignore[arg-type]
        self._memory_storage = MemoryStorage()
        self._memory = MovingWindowRateLimiter(self._memory_storage)
        self._failed_at: datetime | None = None
        self._lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        return self._failed_at is not None

    def run(self, operation: Callable[[MovingWindowRateLimiter], T]) -> T:
        with self._lock:
            failed_at = self._failed_at
        if failed_at is not None and clock.now() - failed_at < RECHECK_AFTER:
            return operation(self._memory)
        try:
            result = operation(self._primary)
        except StorageError as exc:
            with self._lock:
                if self._failed_at is None:
                    log.warning(
                        "Rate-limit store %s is unreachable (%s); counting failed sign-ins "
                        "in-memory, per process, until it answers again.",
                        _redacted(self.uri),
                        exc.storage_error,
                    )
                self._failed_at = clock.now()
            return operation(self._memory)
        if failed_at is not None:
            with self._lock:
                self._failed_at = None
            log.warning(
                "Rate-limit store %s answers again; counting sign-in failures there.", _redacted(self.uri)
            )
        return result

    def reset(self) -> None:
        """Forget every count (tests)."""
        self._memory_storage.reset()
        self.run(lambda limiter: limiter.storage.reset())


def _redacted(uri: str) -> str:
    """The store's address without a password in it, for the log."""
    scheme, sep, rest = uri.partition("://")
    return f"{scheme}{sep}{rest.rsplit('@', 1)[-1]}"


def source_key(ip: str | None) -> str:
    """The unit an address limit counts: an IPv4 address, or the /64 of an IPv6 one
    (one subscriber usually holds a whole /64)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class LoginThrottle:
    """The three windows of failed sign-ins for one app."""

    def __init__(
        self,
        store: FallbackStore,
        *,
        secret: str | bytes,
        per_address: str,
        per_address_account: str,
        per_account: str,
    ) -> None:
        self.store = store
        self._secret = secret.encode() if isinstance(secret, str) else secret
        self.per_address = parse_rate(per_address, "LOGIN_LIMIT_PER_ADDRESS")
        self.per_address_account = parse_rate(per_address_account, "LOGIN_LIMIT_PER_ADDRESS_AND_ACCOUNT")
        self.per_account = parse_rate(per_account, "LOGIN_LIMIT_PER_ACCOUNT")

    def _account(self, email: str) -> str:
        return hmac.new(self._secret, email.encode(), hashlib.sha256).hexdigest()[:32]

    def _keys(self, ip: str | None, email: str) -> dict[str, tuple[RateLimitItem, tuple[str, ...]]]:
        source, account = source_key(ip), self._account(email)
        return {
            "address": (self.per_address, ("login-address", source)),
            "address_account": (self.per_address_account, ("login-address-account", source, account)),
            "account": (self.per_account, ("login-account", account)),
        }

    def exhausted(self, ip: str | None, email: str) -> dict[str, int]:
        """The windows with no failure left, each with the seconds until one frees up."""
        out = {}
        for name, (item, ids) in self._keys(ip, email).items():
            # run() calls the operation at once, so the lambda sees this iteration's item and ids
            stats = self.store.run(lambda limiter: limiter.get_window_stats(item, *ids))  # noqa: B023
            if stats.remaining <= 0:
                out[name] = max(1, math.ceil(stats.reset_time - clock.now().timestamp()))
        return out

    @property
    def account_window_seconds(self) -> int:
        return self.per_account.get_expiry()

    def record_failure(self, ip: str | None, email: str, *, count_for_account: bool) -> None:
        for name, (item, ids) in self._keys(ip, email).items():
            if name != "account" or count_for_account:
                self.store.run(lambda limiter: limiter.hit(item, *ids))  # noqa: B023 (called at once)

    def record_success(self, ip: str | None, email: str) -> None:
        """A success from an address ends that address's run of failures on the account
        (the address-wide and account-wide windows keep theirs)."""
        item, ids = self._keys(ip, email)["address_account"]
        self.store.run(lambda limiter: limiter.clear(item, *ids))

    def reset(self) -> None:
        self.store.reset()


def parse_rate(value: str, name: str, example: str = "10 per 15 minutes") -> RateLimitItem:
    """A rate setting, or a start-up refusal naming the setting."""
    try:
        return parse(value)
    except ValueError:
        raise RuntimeError(f"{name} must be a rate such as '{example}', not {value!r}.") from None


def hit_or_wait(store: FallbackStore, rate: RateLimitItem, *ids: str) -> int | None:
    """Count one request in `rate`'s moving window for `ids`: None if allowed, else the
    seconds until one is allowed again (1 to the window's length)."""
    if store.run(lambda limiter: limiter.hit(rate, *ids)):
        return None
    stats = store.run(lambda limiter: limiter.get_window_stats(rate, *ids))
    wait = math.ceil(stats.reset_time - clock.now().timestamp())
    return min(max(1, wait), rate.get_expiry())


def init_app(app: Flask) -> None:
    """Build this app's throttle from its configuration (one per app, so tests can run
    apps with different stores side by side)."""
    cap = app.config["LOGIN_MAX_CONSECUTIVE_FAILURES"]
    if not 1 <= cap <= 100:
        raise RuntimeError("LOGIN_MAX_CONSECUTIVE_FAILURES must be from 1 to 100 (NIST SP 800-63B).")
    app.extensions[EXTENSION_KEY] = LoginThrottle(
        FallbackStore(app.config["RATELIMIT_STORAGE_URI"]),
        secret=app.config["SECRET_KEY"],
        per_address=app.config["LOGIN_LIMIT_PER_ADDRESS"],
        per_address_account=app.config["LOGIN_LIMIT_PER_ADDRESS_AND_ACCOUNT"],
        per_account=app.config["LOGIN_LIMIT_PER_ACCOUNT"],
    )


def current() -> LoginThrottle:
    return current_app.extensions[EXTENSION_KEY]
