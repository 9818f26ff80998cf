"""RecTrack: the system of record for OIG recommendations, from issuance to closure."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, redirect, request, url_for
from flask_login import current_user
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from werkzeug.middleware.proxy_fix import ProxyFix

from app import audit, cache, portal, unavailable
from app.auth import policy, throttle
from app.database import AppSession, configure_engine, install_raiseload
from app.extensions import csrf, db, login_manager, migrate
from app.lifecycle import due_dates, periods
from app.search import index as search_index
from app.web import IdConverter
from config import BASE_DIR, INSTANCE_DIR, BaseConfig, config_from_env

# Endpoints an anonymous visitor may reach; everything else needs a signed-in user.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        # the second step of signing in, and a passkey's sign-in (app/mfa): they check
        # the session's pending sign-in themselves
        "mfa.second_factor",
        "mfa.key_options",
        "mfa.key_assert",
        "sso.start",  # single sign-on: 404 unless OIDC_PROVIDERS names the provider
        "sso.callback",
        # password reset by e-mail (app/auth/reset.py)
        "auth.forgot_password",
        "auth.reset_password",
        "static",
        "health.healthz",
        "health.readyz",
        "metrics",
    }
)
# The public portal: endpoints an anonymous visitor may also reach when PUBLIC_PORTAL is on
# (README, "Public portal"). They read as app.auth.policy.PublicReader, the most restricted
# reader, and are rate-limited per address (app/portal); with PUBLIC_PORTAL off they need
# a signed-in user like every other page.
PORTAL_ENDPOINTS = frozenset(
    {
        "reports.index",
        "reports.detail",
        "recommendations.index",
        "recommendations.detail",  # with its status history
        "components.index",
        "components.detail",
        "search.search",
        "pdf.report_pdf",  # made in the request (app/pdf/views.py)
        "exports.csv_export",  # small lists only (app/exports/views.py)
        # Atom feeds list public items only (app/feeds)
        "feeds.all_public",
        "feeds.report_feed",
        "feeds.component_feed",
        # The API's description and docs page (they hold no records). The API's own
        # operations never redirect to the sign-in page: they answer 401 (app/api/auth.py).
        "api-docs.openapi_json",
        "api_docs.docs",
        # open data (app/opendata): public recommendations only
        "opendata.index",
        "opendata.dictionary",
        "opendata.csv_file",
        "opendata.json_file",
    }
)


def create_app(config: BaseConfig | None = None) -> Flask:
    """Build the application for a configuration (APP_ENV's when none is given)."""
    config = config or config_from_env()
    config.validate()
    from app.auth.oidc import load_providers

    load_providers(config.OIDC_PROVIDERS)  # a provider that cannot be used stops the start, saying why

    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_object(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalize_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _check_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    # Inside ProxyFix: a safe request run again sees the environ as the app first saw it.
    app.wsgi_app = unavailable.RetrySafeRequests(app.wsgi_app)  # type: ignore[method-assign]
    if app.config["TRUSTED_PROXY_COUNT"]:
        n = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    app.url_map.converters["int"] = IdConverter
    _init_extensions(app)
    _register_blueprints(app)
    if app.config["SCHEMA_GUARD"]:
        from app.startup import install_schema_guard

        install_schema_guard(app)  # first: before any hook that reads the user or the tables
    _register_request_hooks(app)

    from app import cli, errors, observability, templating

    observability.register(app)  # after the request hooks: it orders its own around them

    errors.register(app)
    if not app.testing:  # a server drains (/readyz 503) on SIGTERM; tests keep pytest's handler
        from app.health import install_sigterm_handler

        install_sigterm_handler()
    cli.register(app)
    templating.register(app)
    return app


def _normalize_db_url(url: str) -> str:
    # Accept the URL forms hosting platforms hand out; psycopg 3 is the driver.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _check_db_url(url: str) -> None:
    """A RuntimeError saying what is wrong, instead of SQLAlchemy's traceback at start. The
    URL itself is not repeated: it may hold a password."""
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError):
        raise RuntimeError(
            "DATABASE_URL is not a database URL RecTrack can use. Write it as "
            "postgresql+psycopg://user@host/dbname (or sqlite:///path/to/file.db)."
        ) from None


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    unavailable.guard_teardown(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), compare_type=True)
    csrf.init_app(app)
    throttle.init_app(app)
    portal.init_app(app)  # after the throttle: it counts in the same store
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_user)
    # Who reads when no one is signed in; the pages it may open at all: require_login below.
    login_manager.anonymous_user = policy.PublicReader

    with app.app_context():
        configure_engine(
            db.engine,
            connect_timeout=app.config["DATABASE_CONNECT_TIMEOUT"],
            request_statement_timeout_ms=app.config["DATABASE_STATEMENT_TIMEOUT_MS"],
        )
    from app.jobs.celery_app import celery_init_app

    celery_init_app(app)
    # The write path's hooks, on the app's own session class (README, "What happens on a write").
    audit.install(AppSession)
    cache.install(AppSession)
    search_index.install(AppSession)
    due_dates.install(AppSession)
    periods.install(AppSession)
    from app.pdf import prerender

    prerender.install(AppSession)
    if app.config["SQLALCHEMY_RAISELOAD"]:
        install_raiseload(AppSession)


def _load_user(user_id: str) -> Any:
    from app.auth.services import load_user

    try:
        uid, version = (int(part) for part in user_id.split(":", 1))
    except ValueError:
        return None
    return load_user(db.session, uid, version)


def _register_blueprints(app: Flask) -> None:
    from app.admin.views import bp as admin_bp
    from app.auth.sso_views import bp as sso_bp
    from app.auth.views import bp as auth_bp
    from app.components.views import bp as components_bp
    from app.dashboard.views import bp as dashboard_bp
    from app.exports.views import bp as exports_bp
    from app.feeds.views import bp as feeds_bp
    from app.follows.views import bp as follows_bp
    from app.health import bp as health_bp
    from app.imports.views import bp as imports_bp
    from app.jobs.views import bp as jobs_bp
    from app.lifecycle.views import bp as lifecycle_bp
    from app.mail.views import bp as mail_bp
    from app.mfa.views import bp as mfa_bp
    from app.opendata.views import bp as opendata_bp
    from app.pdf.views import bp as pdf_bp
    from app.recommendations.views import bp as recommendations_bp
    from app.reports.views import bp as reports_bp
    from app.search.views import bp as search_bp
    from app.tokens.views import bp as tokens_bp

    blueprints = (
        dashboard_bp,
        auth_bp,
        sso_bp,
        reports_bp,
        recommendations_bp,
        lifecycle_bp,
        components_bp,
        admin_bp,
        pdf_bp,
        exports_bp,
        imports_bp,
        search_bp,
        jobs_bp,
        mail_bp,
        health_bp,
        feeds_bp,
        follows_bp,
        opendata_bp,
        tokens_bp,
        mfa_bp,
    )
    for bp in blueprints:  # fmt: skip
        app.register_blueprint(bp)
    from app import api

    api.init_app(app)  # the JSON API's blueprint, under /api/v1
    if os.environ.get("BENCH_ROUTES") == "1":  # bench/run.py only; never in normal use
        from app.bench_routes import bp as bench_bp

        app.register_blueprint(bench_bp)


def _register_request_hooks(app: Flask) -> None:
    from app.web import is_api_request, reject_control_characters

    app.before_request(reject_control_characters)

    @app.before_request
    def require_login() -> Any:
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        if is_api_request():
            return None  # the API authenticates by token, never by the session (app/api/auth.py)
        if current_user.is_authenticated:
            return None
        if app.config["PUBLIC_PORTAL"]:
            if request.endpoint in PORTAL_ENDPOINTS:
                return portal.limit_anonymous()  # None, or the 429 page
            if request.endpoint == "dashboard.index":  # the site's address: the portal's front page
                return redirect(url_for("reports.index"))
        return login_manager.unauthorized()

    from app.auth import sessions

    sessions.register(app)  # session limits and the temporary-password gate

    @app.before_request
    def require_second_factor() -> Any:
        """An account whose role requires a second factor (MFA_REQUIRED_ROLES) reaches
        only enrolment until it has one (app/mfa/flow.py); the API is token-based."""
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None or is_api_request():
            return None
        from app.mfa import flow

        return flow.gate()

    @app.before_request
    def set_audit_actor() -> None:
        from app.web import client_ip

        if is_api_request():  # the cookie's user is never read here; the token names the actor
            actor = audit.AuditActor.anonymous(client_ip())
        elif current_user.is_authenticated:
            actor = audit.AuditActor.for_user(current_user, client_ip())
        else:
            actor = audit.AuditActor.anonymous(client_ip())
        audit.set_actor(db.session, actor)

    @app.after_request
    def write_access_events(response: Any) -> Any:
        from app.web import client_ip, pending_accesses

        accesses = pending_accesses()
        if accesses:
            actor = audit.get_actor(db.session) or audit.AuditActor.anonymous(client_ip())
            audit.commit_apart(db.session, actor, accesses)
        return response

    @app.after_request
    def security_headers(response: Any) -> Any:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["STRICT_TRANSPORT_SECURITY"]:
            response.headers.setdefault("Strict-Transport-Security", app.config["STRICT_TRANSPORT_SECURITY"])
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
