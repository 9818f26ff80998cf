"""Configuration classes. The environment chooses one with APP_ENV (development by default).

Every setting that differs between machines is read from the environment. Production
refuses to start without SECRET_KEY and DATABASE_URL; there is no fallback secret.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_PATH", BASE_DIR / "instance"))

MIB = 1024 * 1024


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def weak_secret(key: str) -> str | None:
    """Why `key` is too weak to sign sessions, or None: under 32 characters, or too few
    different characters (a repeated one, a word said twice) to be random."""
    if len(key) < 32:
        return "must be at least 32 characters"
    if len(set(key)) < 16:
        return f"has only {len(set(key))} different characters: it is not random"
    return None


def _dev_secret_key() -> str:
    """A random key kept in instance/ so development sessions survive a restart."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class BaseConfig:
    ENV_NAME = "base"
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, object]] = {"pool_pre_ping": True}
    SQLALCHEMY_RAISELOAD = False  # tests turn lazy loads into errors
    # PostgreSQL: seconds to wait for a connection (a database that never answers gives a
    # 503 after this, instead of pinning a web worker).
    DATABASE_CONNECT_TIMEOUT = _int_env("DATABASE_CONNECT_TIMEOUT", 5)
    # PostgreSQL: a statement run for a web request is cancelled after this many
    # milliseconds (0: no limit). Workers, migrations and CLI commands have no limit.
    DATABASE_STATEMENT_TIMEOUT_MS = _int_env("DATABASE_STATEMENT_TIMEOUT_MS", 30000)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "rectrack_session"
    # The cookie outlives the server's limits (SESSION_MAX_HOURS), which end a session.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_int_env("SESSION_MAX_HOURS", 12) + 1)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Attachments (lifecycle issue) and uploads share one request ceiling.
    ATTACHMENT_MAX_BYTES = _int_env("ATTACHMENT_MAX_BYTES", 25 * MIB)
    MAX_CONTENT_LENGTH = ATTACHMENT_MAX_BYTES + MIB

    # Where stored bytes (documents, import uploads) live: "database" (every app server
    # reads them) or "filesystem" (files under ATTACHMENT_DIR, a directory all servers must
    # share). README, "Storage".
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "database")
    # Documents' files when STORAGE_BACKEND is "filesystem" (never under static/); the
    # migration to the database copies existing files from here (0019_blob_storage).
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR", str(INSTANCE_DIR / "attachments"))
    # An import file that passed its dry run waits this long for its commit, then the
    # scheduler (beat) or `flask storage gc` removes it.
    STAGED_IMPORT_TTL_HOURS = _int_env("STAGED_IMPORT_TTL_HOURS", 24)
    # Liaisons report progress at least this often once a recommendation is resolved.
    UPDATE_INTERVAL_DAYS = _int_env("UPDATE_INTERVAL_DAYS", 90)
    # Days to revise a response the OIG returns (README, "Deadline policy").
    REVISED_RESPONSE_DAYS = _int_env("REVISED_RESPONSE_DAYS", 30)

    # PDF status reports: a time limit per render, a cap per document, a shared cache.
    PDF_TIMEOUT_SECONDS = _int_env("PDF_TIMEOUT_SECONDS", 120)
    PDF_MAX_RECOMMENDATIONS = _int_env("PDF_MAX_RECOMMENDATIONS", 5000)

    # Background jobs (app/jobs; README, "Background work"). "celery": a worker, through
    # CELERY_BROKER_URL (Redis in production; a SQLite file for `make run`, which starts
    # one worker beside the web server). "inline": the request runs the job itself.
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "celery")
    CELERY_BROKER_URL = os.environ.get(
        "CELERY_BROKER_URL", f"sqla+sqlite:///{INSTANCE_DIR / 'broker.sqlite'}"
    )
    CELERY_CONNECT_TIMEOUT = _int_env("CELERY_CONNECT_TIMEOUT", 2)
    # A job a worker took but never acknowledged (the worker died) is delivered again after this.
    CELERY_VISIBILITY_TIMEOUT = _int_env("CELERY_VISIBILITY_TIMEOUT", 3600)
    # A worker not heard from for this long is taken for dead; its running job may be taken over.
    JOB_WORKER_STALE_SECONDS = _int_env("JOB_WORKER_STALE_SECONDS", 90)
    # Seconds a worker waits after claiming each job before running it. For the crash test
    # only (tests/test_two_servers.py kills a worker in the middle of a job); keep it 0.
    JOB_TEST_DELAY_SECONDS = _int_env("JOB_TEST_DELAY_SECONDS", 0)
    # Finished files are kept this long, then asked for again.
    JOB_RESULT_TTL_HOURS = _int_env("JOB_RESULT_TTL_HOURS", 24)
    # After a write, the PDFs it changes are made again this long after the last write.
    PRERENDER_DELAY_SECONDS = _int_env("PRERENDER_DELAY_SECONDS", 30)
    # Exports of more rows than this run as a job; smaller ones stream at once.
    EXPORT_JOB_THRESHOLD = _int_env("EXPORT_JOB_THRESHOLD", 5000)

    # The public portal (README, "Public portal"): anonymous visitors browse, filter and
    # search public items, download their report PDFs and CSV lists. Off: every page but
    # sign-in, health and metrics needs a signed-in user, the Atom feeds included.
    PUBLIC_PORTAL = os.environ.get("PUBLIC_PORTAL", "1").strip().lower() not in ("0", "false", "no", "off")
    # Anonymous portal requests from one address (an IPv6 /64), in a moving window, counted
    # in RATELIMIT_STORAGE_URI; signed-in users are not counted.
    PORTAL_RATE_LIMIT = os.environ.get("PORTAL_RATE_LIMIT", "120 per minute")

    # Sign-in throttling (app/auth/throttle.py; README, "Security notes"). Counters live in
    # RATELIMIT_STORAGE_URI, and in memory while that store cannot be reached.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # Failed sign-ins from one address (an IPv6 /64), whatever the account: password spraying.
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "10 per 15 minutes")
    # Failed sign-ins from one address to one account.
    LOGIN_LIMIT_PER_ADDRESS_AND_ACCOUNT = os.environ.get(
        "LOGIN_LIMIT_PER_ADDRESS_AND_ACCOUNT", "5 per 15 minutes"
    )
    # Failed sign-ins to one account from addresses and browsers it has not signed in from.
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes")
    # Requests one API token may make (app/api/auth.py), a moving window counted in
    # RATELIMIT_STORAGE_URI; past it the API answers 429 with Retry-After.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")
    # After this many failures in a row (NIST SP 800-63B: at most 100), only known
    # browsers and addresses may sign in to the account until one of them succeeds.
    LOGIN_MAX_CONSECUTIVE_FAILURES = _int_env("LOGIN_MAX_CONSECUTIVE_FAILURES", 100)
    # An address the account signed in from this recently is known.
    LOGIN_KNOWN_ADDRESS_DAYS = _int_env("LOGIN_KNOWN_ADDRESS_DAYS", 30)
    # A browser that signed in to the account keeps a signed cookie saying so this long.
    LOGIN_DEVICE_COOKIE_DAYS = _int_env("LOGIN_DEVICE_COOKIE_DAYS", 180)

    # Second factor (app/mfa; README, "Second factor"). Roles that must use one, comma-
    # separated (admin, oig, liaison, viewer): in production every role that can change
    # anything; development and tests default to none.
    MFA_REQUIRED_ROLES = os.environ.get("MFA_REQUIRED_ROLES", "admin,oig,liaison")
    # Adding or removing a factor, changing a password, making an API token, changing an
    # account's role or resetting its factors needs a sign-in no older than this.
    FRESH_SIGNIN_MINUTES = _int_env("FRESH_SIGNIN_MINUTES", 15)
    # WebAuthn's relying party: its id (the site's domain, e.g. rectrack.oig.gov) and the
    # origin browsers report (https://rectrack.oig.gov). Empty: in production both come
    # from MAIL_BASE_URL (the site's address); in development from the request's host.
    WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "")
    WEBAUTHN_ORIGIN = os.environ.get("WEBAUTHN_ORIGIN", "")
    # Whether an unset WEBAUTHN_RP_ID / WEBAUTHN_ORIGIN may come from the request's host
    # (never in production: a Host header is the client's to choose).
    WEBAUTHN_FROM_REQUEST_HOST = True
    # Single sign-on over OpenID Connect (app/auth/oidc.py; README, "Single sign-on"): a JSON
    # list of providers, or the path of a JSON file holding one. Empty: no SSO buttons, and
    # the SSO routes answer 404.
    OIDC_PROVIDERS = os.environ.get("OIDC_PROVIDERS", "")
    # Seconds to wait for a provider (discovery, token endpoint, keys, userinfo) before the
    # sign-in is refused with a message.
    OIDC_HTTP_TIMEOUT_SECONDS = _int_env("OIDC_HTTP_TIMEOUT_SECONDS", 10)
    # Session limits (app/auth/sessions.py; README, "Sessions"), NIST SP 800-63B AAL2: a
    # session ends after this many minutes without activity, and this many hours after
    # its sign-in whatever the activity. The browser warns two minutes before either.
    SESSION_IDLE_MINUTES = _int_env("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = _int_env("SESSION_MAX_HOURS", 12)
    # Password reset by e-mail (README, "Password reset"): a link works once, for this many
    # minutes; requests are throttled per typed address and per source address.
    PASSWORD_RESET_MINUTES = _int_env("PASSWORD_RESET_MINUTES", 60)
    PASSWORD_RESET_LIMIT_PER_EMAIL = os.environ.get("PASSWORD_RESET_LIMIT_PER_EMAIL", "3 per hour")
    PASSWORD_RESET_LIMIT_PER_ADDRESS = os.environ.get("PASSWORD_RESET_LIMIT_PER_ADDRESS", "10 per hour")
    # Dormant accounts (README, "Dormant accounts"): the scheduler disables an account
    # unused this many days, after an e-mail warning this many days before.
    ACCOUNT_DORMANT_DAYS = _int_env("ACCOUNT_DORMANT_DAYS", 90)
    ACCOUNT_DORMANT_WARNING_DAYS = _int_env("ACCOUNT_DORMANT_WARNING_DAYS", 14)
    # The hour (0-23, APP_TIMEZONE) Celery beat looks for dormant accounts.
    ACCOUNT_DORMANT_HOUR = _int_env("ACCOUNT_DORMANT_HOUR", 3)

    # Number of reverse proxies in front of the app whose X-Forwarded-For is trusted.
    TRUSTED_PROXY_COUNT = _int_env("TRUSTED_PROXY_COUNT", 0)

    # Logs and metrics (app/observability). RecTrack's own log records from this level
    # (DEBUG, INFO, WARNING, ERROR), one JSON object a line on stderr.
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Who may read /metrics without a token: addresses or networks, comma-separated.
    METRICS_ALLOWED_ADDRESSES = os.environ.get("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1")
    # A bearer token that lets any address read /metrics (at least 32 characters); empty: none.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    # Under gunicorn: an empty folder where each worker writes its metrics, so /metrics
    # adds up all workers (prometheus-client's multiprocess mode; gunicorn.conf.py).
    PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")

    # E-mail (app/mail; issue 15). Sent only by background jobs, from the outbox table.
    # "smtp": through SMTP_HOST; "folder": each message written as a .eml file to MAIL_FOLDER
    # (development: nothing leaves the machine; the admin Outbox page lists the files).
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    MAIL_FOLDER = os.environ.get("MAIL_FOLDER", str(INSTANCE_DIR / "outbox"))
    SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
    SMTP_PORT = _int_env("SMTP_PORT", 25)
    # Upgrade the connection with STARTTLS before sending credentials or mail.
    SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes")
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")  # empty: no AUTH
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    # Seconds to wait for the SMTP server to answer before counting a temporary failure.
    SMTP_TIMEOUT_SECONDS = _int_env("SMTP_TIMEOUT_SECONDS", 10)
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "RecTrack <rectrack@localhost>")
    MAIL_REPLY_TO = os.environ.get("MAIL_REPLY_TO", "")  # empty: no Reply-To header
    # The address links in messages start with (the site as people reach it).
    MAIL_BASE_URL = os.environ.get("MAIL_BASE_URL", "http://localhost:5000")
    # The liaison digest lists items due within this many days from today (and overdue ones).
    MAIL_DIGEST_LOOKAHEAD_DAYS = _int_env("MAIL_DIGEST_LOOKAHEAD_DAYS", 14)
    # The hour (0-23, APP_TIMEZONE) Celery beat queues the day's digests.
    MAIL_DIGEST_HOUR = _int_env("MAIL_DIGEST_HOUR", 6)
    # A message that still fails temporarily after this many tries is given up (shown to admins).
    MAIL_MAX_ATTEMPTS = _int_env("MAIL_MAX_ATTEMPTS", 12)
    # The hour (0-23, APP_TIMEZONE) Celery beat rebuilds the open-data files (app/opendata).
    OPEN_DATA_HOUR = _int_env("OPEN_DATA_HOUR", 5)

    PAGE_SIZE = _int_env("PAGE_SIZE", 50)
    # Atom feeds of status changes (app/feeds): the newest this many entries per feed, and
    # the domain (or e-mail address) their permanent tag: URIs are minted under. Set the
    # authority once to a name the OIG controls and never change it: readers key on the ids.
    FEED_MAX_ENTRIES = _int_env("FEED_MAX_ENTRIES", 50)
    FEED_TAG_AUTHORITY = os.environ.get("FEED_TAG_AUTHORITY", "rectrack.invalid")
    # Deadlines are counted in the OIG's calendar days.
    APP_TIMEZONE = os.environ.get("APP_TIMEZONE", "America/New_York")
    DEMO_ACCOUNTS = False
    # The Strict-Transport-Security header; production only (development runs on http://).
    STRICT_TRANSPORT_SECURITY: str | None = None
    # Until a process has once seen the database schema at the migration head, each request
    # checks it and an unmigrated database gets a page saying so (app/startup.py); tests,
    # whose databases are migrated by the fixtures, skip the check.
    SCHEMA_GUARD = True

    def validate(self) -> None:
        """Raise RuntimeError when the environment cannot run this configuration."""
        try:
            ZoneInfo(self.APP_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise RuntimeError(
                f"APP_TIMEZONE {self.APP_TIMEZONE!r} is not a time zone; use a name such as America/New_York."
            ) from None
        if self.SESSION_IDLE_MINUTES < 3 or self.SESSION_MAX_HOURS < 1:
            raise RuntimeError("SESSION_IDLE_MINUTES must be at least 3 and SESSION_MAX_HOURS at least 1.")
        if not 0 < self.ACCOUNT_DORMANT_WARNING_DAYS < self.ACCOUNT_DORMANT_DAYS:
            raise RuntimeError("ACCOUNT_DORMANT_WARNING_DAYS must be from 1 to ACCOUNT_DORMANT_DAYS - 1.")
        if self.MAIL_BACKEND not in ("smtp", "folder"):
            raise RuntimeError(f"Unknown MAIL_BACKEND {self.MAIL_BACKEND!r}; use smtp or folder.")
        unknown = {r.strip() for r in self.MFA_REQUIRED_ROLES.split(",") if r.strip()} - {
            "admin",
            "oig",
            "liaison",
            "viewer",
        }
        if unknown:
            raise RuntimeError(
                f"MFA_REQUIRED_ROLES names unknown roles {', '.join(sorted(unknown))}; "
                "use admin, oig, liaison, viewer."
            )
        if self.STORAGE_BACKEND not in ("database", "filesystem"):
            raise RuntimeError(
                f"Unknown STORAGE_BACKEND {self.STORAGE_BACKEND!r}; use database or filesystem."
            )


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    DEMO_ACCOUNTS = True
    # `make run` asks no one for a second factor (the sign-in page says so).
    MFA_REQUIRED_ROLES = os.environ.get("MFA_REQUIRED_ROLES", "")
    # Development keeps mail in instance/outbox/ unless told otherwise.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "folder")

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY") or _dev_secret_key()
        # DATABASE_URL= (set but empty, as a .env template leaves it) means "not set".
        self.SQLALCHEMY_DATABASE_URI = (
            os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{INSTANCE_DIR / 'rectrack.db'}"
        )


class TestingConfig(BaseConfig):
    __test__ = False  # not a pytest test class
    ENV_NAME = "testing"
    TESTING = True
    WTF_CSRF_ENABLED = False  # CSRF has its own tests, which switch it back on
    SQLALCHEMY_RAISELOAD = True
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_BACKEND = "inline"
    SCHEMA_GUARD = False
    # Tests point SMTP_PORT at their own aiosmtpd server (tests/mailserver.py); a test
    # without one writes to a temporary folder.
    MAIL_BACKEND = "folder"
    MAIL_BASE_URL = "http://rectrack.test"
    MFA_REQUIRED_ROLES = ""  # tests that need the policy set it

    def __init__(self, database_url: str | None = None) -> None:
        self.SECRET_KEY = secrets.token_urlsafe(32)
        self.SQLALCHEMY_DATABASE_URI = database_url or os.environ.get("TEST_DATABASE_URL") or "sqlite://"
        self.MAIL_FOLDER = tempfile.mkdtemp(prefix="rectrack-outbox-")


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    DEBUG = False
    # Browsers that once reached RecTrack over HTTPS refuse plain HTTP to it for a year.
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
    WEBAUTHN_FROM_REQUEST_HOST = False

    def __init__(self) -> None:
        self.SECRET_KEY = os.environ.get("SECRET_KEY", "")
        # Earlier keys, comma-separated: sessions they signed stay valid while a new key
        # rolls out (Flask's SECRET_KEY_FALLBACKS); drop them once sessions have expired.
        self.SECRET_KEY_FALLBACKS = [
            k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()
        ]
        self.SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "").strip()
        self.database_url_empty = "DATABASE_URL" in os.environ and not self.SQLALCHEMY_DATABASE_URI
        self.RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
        self.CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")

    def validate(self) -> None:
        super().validate()
        if self.database_url_empty:
            raise RuntimeError(
                "DATABASE_URL is set but empty. Production needs the URL of its PostgreSQL "
                "database, such as postgresql+psycopg://rectrack@db.internal/rectrack."
            )
        missing = [k for k in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI") if not getattr(self, k)]
        if missing:
            names = ", ".join("DATABASE_URL" if k.startswith("SQLALCHEMY") else k for k in missing)
            raise RuntimeError(f"Production configuration needs {names} in the environment.")
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            # One file behind every web and worker process: writers queue for its one lock,
            # and a second server cannot share it. PostgreSQL is what production is tested on.
            raise RuntimeError(
                "DATABASE_URL is a SQLite database; production needs PostgreSQL, such as "
                "postgresql+psycopg://rectrack@db.internal/rectrack."
            )
        for name, key in (
            ("SECRET_KEY", self.SECRET_KEY),
            *(("SECRET_KEY_FALLBACKS", k) for k in self.SECRET_KEY_FALLBACKS),
        ):
            if problem := weak_secret(key):
                make = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
                raise RuntimeError(f"{name} {problem}; make one with: {make}")
        if self.JOB_TEST_DELAY_SECONDS:
            raise RuntimeError("JOB_TEST_DELAY_SECONDS is for the crash test only; production needs it 0.")
        if self.JOBS_BACKEND != "celery":
            raise RuntimeError(
                "Production runs background jobs in Celery workers: JOBS_BACKEND must be celery."
            )


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> BaseConfig:
    """The configuration named by APP_ENV (development when unset)."""
    name = os.environ.get("APP_ENV", "development").lower()
    try:
        return CONFIGS[name]()
    except KeyError:
        raise RuntimeError(f"Unknown APP_ENV {name!r}; use one of {', '.join(CONFIGS)}.") from None
