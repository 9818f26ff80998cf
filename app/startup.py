"""Start-up checks beyond the configuration's own (config.py, `validate`): the production
entry point (wsgi.py) and the database schema against the migration head.

A schema behind the code stops a production web server, worker or beat at start. A
database that cannot be reached at start does not: the process starts with a warning,
/readyz says so until it answers, and the schema guard below checks the schema on the
first requests once it does. (Refusing would turn a database restarting at the same
moment as the app, a host reboot or a failover, into a server that exits and is
restarted in a loop.)"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.schema import schema_status

log = logging.getLogger(__name__)

# Endpoints served whatever the schema: the probes say for themselves what is wrong.
_UNGUARDED = frozenset({"static", "health.healthz", "health.readyz"})


def production_app() -> Flask:
    """The application for `gunicorn wsgi:app`: production only, and only on a database
    whose schema is at the head."""
    env = os.environ.get("APP_ENV")
    if env != "production":
        found = "unset" if env is None else repr(env)
        raise RuntimeError(
            f"APP_ENV is {found}: wsgi.py serves production only and needs APP_ENV=production "
            "(development: make run)."
        )
    from app import create_app

    app = create_app()
    require_schema_at_head(app)
    return app


def require_schema_at_head(app: Flask) -> None:
    """RuntimeError naming DATABASE_URL when its schema is not at the head; a warning only
    when the database cannot be reached now."""
    try:
        with app.app_context(), db.engine.connect() as connection:
            status = schema_status(connection)
    except SQLAlchemyError as exc:
        log.warning(
            "The database (DATABASE_URL) cannot be reached at start (%s); starting anyway, "
            "/readyz reports it until it answers.",
            type(exc).__name__,
        )
        return
    finally:
        with app.app_context():
            db.engine.dispose()  # keep no connection: a Celery worker forks its pool after this
    if problem := status.problem():
        raise RuntimeError(f"DATABASE_URL: {problem}")


def install_schema_guard(app: Flask) -> None:
    """Until this process has seen the schema at the head, every request but the probes
    checks it first, and answers 503 with a page saying what to run when it is not there.
    One query on alembic_version per request, and none once the schema was at the head. A
    database error here propagates as any other from the request would."""
    seen_at_head = False
    logged = False

    @app.before_request
    def require_migrated_schema() -> Any:
        nonlocal seen_at_head, logged
        if seen_at_head or request.endpoint in _UNGUARDED:
            return None
        with db.engine.connect() as connection:  # apart from the request's session
            status = schema_status(connection)
        if status.at_head:
            seen_at_head = True
            return None
        if not logged:
            log.error("Refusing requests: DATABASE_URL: %s", status.problem())
            logged = True
        return render_template("errors/not_migrated.html"), 503
