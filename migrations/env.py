"""Alembic environment, run through Flask-Migrate (`flask --app app db ...`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

import app.models  # noqa: F401  (every model on the metadata)
from app.database import include_in_migrations

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def _configure(**kwargs):
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite can only ALTER TABLE by copying it
        include_object=include_in_migrations,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=db.engine.url.render_as_string(hide_password=False), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(ctx, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a table by copying it; with foreign keys on, dropping the old
            # copy would cascade-delete the rows of every table that references it. The
            # pragma only takes effect outside a transaction, hence the raw connection.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            _configure(
                connection=connection,
                process_revision_directives=process_revision_directives,
                # app.database makes SQLAlchemy emit BEGIN on SQLite, so DDL is transactional
                # there too: a failed migration leaves no half-built schema.
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys = ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
