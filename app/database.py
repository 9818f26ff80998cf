"""Database foundations shared by every model: the declarative base, column types and
engine set-up that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session, raiseload

from app import clock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every model is mapped to a Table (declared with __tablename__), not another FromClause.
        __table__: ClassVar[sa.Table]


class AppSession(Session):
    """The app's own session class. The write path's hooks are attached to it, not to
    SQLAlchemy's global Session (app/__init__.py `_init_extensions`): the audit trail and
    the append-only guard (app.audit), the data version (app.cache) and the search
    documents (app.search.index). A session of another class writes none of them."""


def utcnow() -> datetime:
    return clock.now()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always returned timezone-aware.

    SQLite has no time zones and PostgreSQL's would convert on the way out; storing
    naive UTC everywhere keeps both back ends identical.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def enum_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint, storing the enum's values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(engine: Engine, connect_timeout: int = 5, request_statement_timeout_ms: int = 0) -> None:
    """Per-dialect connection settings. Call once per engine.

    PostgreSQL: a connection attempt gives up after `connect_timeout` seconds (a database
    that accepts and never answers must not pin a web worker), and a statement run for a
    web request is cancelled after `request_statement_timeout_ms` (0: no limit)."""
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine, connect_timeout, request_statement_timeout_ms)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN so SAVEPOINT and transactional DDL work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn: sa.Connection) -> None:
        # A request that writes takes SQLite's write lock when its transaction starts.
        # A deferred transaction that upgrades to a write fails at once with "database is
        # locked" when another worker wrote in between; IMMEDIATE waits busy_timeout.
        # Outside a request, code about to write says so with `writing()` (a job's steps); a
        # GET that may write (one that asks for a job) is named in WRITING_GETS.
        immediate = _WRITING.get() or (
            has_request_context()
            and (request.method not in _SAFE_METHODS or request.endpoint in WRITING_GETS)
        )
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgresql(engine: Engine, connect_timeout: int, request_statement_timeout_ms: int) -> None:
    prepares = engine.dialect.driver == "psycopg"

    @event.listens_for(engine, "do_connect")
    def _connect_timeout(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("connect_timeout", connect_timeout)
        if prepares:
            # No server-side prepared statements: psycopg prepares a query run five times on
            # a connection, and PostgreSQL may then keep one generic plan made while the
            # tables were small. A transaction that fills them (an import into a new
            # database: 10,000 rows) kept seq-scanning them with it, as the statistics do
            # not see its own rows to invalidate the plan; a plan per execution does.
            cparams.setdefault("prepare_threshold", None)
        # No JIT compilation: for the dashboard's one-pass counts as a liaison sees them the
        # planner's cost passed jit_above_cost, and compiling took 680 ms of a 784 ms query
        # (100,000 recommendations). The app's queries are short; JIT pays off only for long
        # analytical ones.
        options = cparams.get("options", "")
        if "jit=" not in options:
            cparams["options"] = f"{options} -c jit=off".strip()

    @event.listens_for(engine, "checkout")
    def _statement_timeout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # The limit is for requests only: a worker's job, a migration or a CLI command may
        # run a long statement on purpose (an index rebuild, a bulk import). The setting
        # stays on the connection, so a web process sets it once per connection.
        wanted = request_statement_timeout_ms if has_request_context() else 0
        if record.info.get("statement_timeout_ms", 0) == wanted:
            return
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(wanted)}")
            dbapi_connection.commit()  # a SET in a transaction rolled back later would be undone
        except engine.dialect.loaded_dbapi.Error as exc:
            # The connection died since its ping: the pool drops it and checks out another.
            raise sa.exc.DisconnectionError(str(exc)) from exc
        record.info["statement_timeout_ms"] = wanted


_WRITING: ContextVar[bool] = ContextVar("sqlite_writing", default=False)
# Endpoints whose GET may write (a download that becomes a job): on SQLite their
# transaction takes the write lock when it starts, so two such requests at once wait for
# each other instead of one failing with "database is locked".
WRITING_GETS: set[str] = set()


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside this block write (SQLite: BEGIN IMMEDIATE, so they wait
    for the write lock instead of failing when another connection wrote meanwhile)."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


def install_raiseload(session_class: type[Session]) -> None:
    """Make every lazy load that would emit SQL an error (used by the test configuration).

    Views must eager-load what their templates touch; this turns a forgotten eager
    load, the N+1 pattern, into a failing test instead of a slow page.
    """

    if event.contains(session_class, "do_orm_execute", _add_raiseload):
        return
    event.listen(session_class, "do_orm_execute", _add_raiseload)


def _add_raiseload(state: ORMExecuteState) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get("allow_lazy", False)
    ):
        state.statement = state.statement.options(raiseload("*", sql_only=True))


def include_in_migrations(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """What Alembic compares between the models and the database. The full-text search
    structures are per-database and live only in migration 0003: SQLite's FTS5 tables
    and PostgreSQL's generated tsvector column with its GIN index. So does PostgreSQL's
    index of the list's order, NULLS LAST (migration 0033), which SQLite cannot declare."""
    if type_ == "table" and name and name.startswith("search_fts"):
        return False
    if (
        type_ == "column"
        and name == "tsv"
        and getattr(getattr(obj, "table", None), "name", "") == "search_documents"
    ):
        return False
    return not (type_ == "index" and name in ("ix_search_documents_tsv", "ix_reports_newest"))
