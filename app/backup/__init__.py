"""Backups that are known to restore (docs/backups.md).

`create_dump` runs pg_dump (custom format: one consistent snapshot, taken while the app
runs; documents are in it, in the `blobs` table). `verify` restores a dump into a scratch
database on a PostgreSQL server and checks what came back: the migration revision, that
every table can be read, that every stored document's bytes hash to the SHA-256 it is
stored under, and that every row naming a document (storage.REFERENCES) finds it.
Optionally it compares row counts and document hashes with the live database. The
scratch database is dropped afterwards unless asked to keep it.

On SQLite `copy_sqlite` takes a consistent copy with SQLite's online backup API.

The tools come from PATH: pg_dump must be the server's major version or newer, and
pg_restore at least the pg_dump that wrote the archive. A password never goes on a
command line (the process list shows those): it is passed in PGPASSWORD.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from app import schema, storage, wording
from app.database import include_in_migrations
from app.extensions import db

SCRATCH_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
SCRATCH_PREFIX = "rectrack_verify_"
TOOL_OUTPUT_LINES = 6  # of a failed tool's standard error, in the message


class BackupError(RuntimeError):
    """A backup that cannot be made or restored, with the reason in words."""


# --- The PostgreSQL client tools -----------------------------------------------------


def libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection URI for pg_dump, pg_restore and psql, without the password, and the
    environment to run them in (the password in PGPASSWORD)."""
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"Not a PostgreSQL URL: {url.render_as_string(hide_password=True)}")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools "
            "(the server's major version or newer)."
        )
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        tail = [line for line in done.stderr.splitlines() if line.strip()][-TOOL_OUTPUT_LINES:]
        detail = "\n  ".join(tail) or f"exit status {done.returncode}"
        raise BackupError(f"{what} failed:\n  {detail}")


# --- Making a backup -------------------------------------------------------------------


def create_dump(url: URL, out: Path) -> int:
    """pg_dump of the database at `url` in the custom format, into `out`; its size in
    bytes. The dump is written beside `out` first and moved into place when pg_dump has
    finished, so a failed or interrupted dump never looks like a backup."""
    uri, env = libpq(url)
    partial = out.with_name(f".{out.name}.partial")
    try:
        _run([_tool("pg_dump"), "--format=custom", "--file", str(partial), "--dbname", uri], env, "pg_dump")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(out)
    return out.stat().st_size


def copy_sqlite(url: URL, out: Path) -> int:
    """A consistent copy of a SQLite database file with SQLite's online backup API (the
    app may keep writing meanwhile); its size in bytes."""
    source = url.database
    if not source or source == ":memory:" or source.startswith("file::memory:"):
        raise BackupError("An in-memory SQLite database has nothing to back up.")
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(partial)
    try:
        reader.backup(writer)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"SQLite backup failed: {exc}") from exc
    finally:
        writer.close()
        reader.close()
    partial.replace(out)
    return out.stat().st_size


# --- Restoring -------------------------------------------------------------------------


def dump_format(path: Path) -> str:
    """ "archive" (custom, tar or directory format: pg_restore reads it) or "sql" (a
    plain-text dump: psql runs it)."""
    if path.is_dir():
        if (path / "toc.dat").is_file():
            return "archive"
        raise BackupError(f"{path} is a directory without toc.dat: not a pg_dump directory archive.")
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror}") from exc
    if head.startswith(b"PGDMP") or head[257:262] == b"ustar":
        return "archive"
    if head.startswith(b"\x1f\x8b"):
        raise BackupError(f"{path} is gzip-compressed: gunzip it first (custom-format dumps need no gzip).")
    if not head.strip():
        raise BackupError(f"{path} is empty.")
    return "sql"


def restore(dump: Path, url: URL) -> str:
    """Load a dump into the (empty) database at `url`, in one transaction that stops at
    the first error; which tool did it. Owners and grants are left out: the scratch
    database is read by whoever verifies."""
    uri, env = libpq(url)
    if dump_format(dump) == "archive":
        args = [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
        ]
        _run([*args, "--dbname", uri, str(dump)], env, "pg_restore")
        return "pg_restore"
    args = [_tool("psql"), "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--single-transaction"]
    _run([*args, "--dbname", uri, "--file", str(dump)], env, "psql")
    return "psql"


@contextmanager
def scratch_database(server: URL, name: str | None = None, *, keep: bool = False) -> Iterator[URL]:
    """A new, empty database on the server of `server`; dropped on leaving unless `keep`.
    A database that already exists is never used (nor dropped)."""
    name = name or f"{SCRATCH_PREFIX}{secrets.token_hex(4)}"
    if not SCRATCH_NAME.fullmatch(name):
        raise BackupError(f"{name!r} is not a plain database name (lower-case letters, digits, _).")
    if name == server.database:
        raise BackupError(f"The scratch database cannot be {name}, the database the app uses.")
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    where = f"{name} on {server.host or 'localhost'}:{server.port or 5432}"
    try:
        try:
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).first()
                if exists:
                    raise BackupError(f"Database {name} already exists; name another scratch database.")
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.DBAPIError as exc:
            raise BackupError(f"Cannot create the scratch database {where}: {_first_line(exc)}") from exc
        try:
            yield server.set(database=name)
        finally:
            if not keep:
                try:
                    with admin.connect() as conn:
                        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except sa.exc.DBAPIError as exc:
                    raise BackupError(
                        f"Cannot drop the scratch database {where}: {_first_line(exc)}"
                    ) from exc
    finally:
        admin.dispose()


def _first_line(exc: sa.exc.DBAPIError) -> str:
    return (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]


# --- Checking what came back -----------------------------------------------------------


@dataclass
class Verification:
    """What `verify` found: lines for the operator, and the problems among them."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.lines.append(line)

    def fail(self, line: str) -> None:
        self.problems.append(line)
        self.lines.append(f"PROBLEM: {line}")

    @property
    def ok(self) -> bool:
        return not self.problems


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def table_counts(conn: sa.Connection, found: Verification | None = None) -> dict[str, int]:
    """Rows in every table of the public schema; a table that cannot be read is a problem."""
    counts: dict[str, int] = {}
    for table in sorted(sa.inspect(conn).get_table_names()):
        try:
            with conn.begin_nested():
                query = sa.text(f"SELECT count(*) FROM {_quote(conn, table)}")  # noqa: S608 (a quoted table name)
                counts[table] = int(conn.execute(query).scalar_one())
        except sa.exc.DBAPIError as exc:
            if found is None:
                raise
            found.fail(f"table {table} cannot be read: {type(exc.orig).__name__}")
    return counts


def _check_schema(conn: sa.Connection, tables: set[str], found: Verification) -> None:
    if "alembic_version" not in tables:
        found.fail("no alembic_version table: this is not a RecTrack database, or the dump is partial.")
        return
    status = schema.schema_status(conn)
    if status.current is None:
        found.fail("alembic_version is empty: the migration revision of the backup is unknown.")
        return
    if status.at_head:
        found.say(f"Schema: revision {status.current}, this code's head.")
        expected = {
            name
            for name, table in db.metadata.tables.items()
            if include_in_migrations(table, name, "table", False, None)
        }
        missing = sorted(expected - tables)
        if missing:
            found.fail(f"tables missing from the backup: {', '.join(missing)}")
    else:
        found.say(
            f"Schema: revision {status.current}; this code's head is {status.head}: "
            "run `flask --app app db upgrade` after restoring it."
        )


def _check_documents(conn: sa.Connection, tables: set[str], found: Verification, files: Path | None) -> None:
    """Every stored document hashes to its name; every row naming one finds it."""
    present: set[str] = set()
    if files is not None:
        for path in sorted(files.glob("??/*")):
            if len(path.name) == 64 and path.is_file():
                actual = hashlib.sha256(path.read_bytes()).hexdigest()
                if actual != path.name:
                    found.fail(f"document file {path} holds bytes whose SHA-256 is {actual}")
                else:
                    present.add(path.name)
        found.say(f"Documents: {wording.count(len(present), 'file')} under {files} match their SHA-256.")
    elif "blobs" in tables:
        checked = total = 0
        rows = conn.execution_options(yield_per=4).execute(
            sa.text("SELECT sha256, size_bytes, data FROM blobs")
        )
        for sha, size, data in rows:
            data = bytes(data)
            checked += 1
            actual = hashlib.sha256(data).hexdigest()
            if actual != sha:
                found.fail(f"stored document {sha} holds bytes whose SHA-256 is {actual}")
            elif len(data) != size:
                found.fail(f"stored document {sha} has {len(data)} bytes; {size} recorded")
            else:
                present.add(sha)
                total += size
        found.say(
            f"Documents: {len(present)} of {wording.count(checked, 'stored document')} match their SHA-256 "
            f"({total:,} bytes)."
        )
    else:
        found.say("Documents: no blobs table at this revision (documents were files under ATTACHMENT_DIR).")
        return
    for column in storage.REFERENCES:
        table, name = column.property.columns[0].table.name, column.key
        if table not in tables:
            continue
        named = {
            sha
            for sha in conn.execute(
                sa.text(f"SELECT DISTINCT {_quote(conn, name)} FROM {_quote(conn, table)}")  # noqa: S608
            ).scalars()
            if sha is not None
        }
        missing = sorted(named - present)
        if missing:
            shown = ", ".join(missing[:3]) + (" …" if len(missing) > 3 else "")
            found.fail(
                f"{table}.{name}: {wording.count(len(missing), 'document')} missing or damaged: {shown}"
            )


def _compare_with_live(
    conn: sa.Connection, live: sa.Connection, counts: dict[str, int], found: Verification
) -> None:
    live_counts = table_counts(live)
    differ = 0
    for table in sorted(set(counts) | set(live_counts)):
        ours, theirs = counts.get(table), live_counts.get(table)
        if ours != theirs:
            differ += 1
            found.fail(
                f"{table}: {'no table' if ours is None else f'{ours:,} rows'} in the backup, "
                f"{'no table' if theirs is None else f'{theirs:,}'} in the live database"
            )
    if "blobs" in counts and "blobs" in live_counts:
        ours_hashes = set(conn.execute(sa.text("SELECT sha256 FROM blobs")).scalars())
        live_hashes = set(live.execute(sa.text("SELECT sha256 FROM blobs")).scalars())
        for what, hashes in (
            ("only in the backup", ours_hashes - live_hashes),
            ("only live", live_hashes - ours_hashes),
        ):
            if hashes:
                found.fail(f"{wording.count(len(hashes), 'stored document')} {what}")
    if not differ:
        found.say(f"Live database: the same row counts in all {len(counts)} tables.")


def verify(
    dump: Path,
    server: URL,
    *,
    scratch: str | None = None,
    keep: bool = False,
    live: URL | None = None,
    files: Path | None = None,
) -> Verification:
    """Restore `dump` into a scratch database on `server` and check it (module docstring);
    compare it with the database at `live` when given. Problems are in the answer; a dump
    that cannot be restored at all is one too."""
    found = Verification()
    try:
        kind = dump_format(dump)
        with scratch_database(server, scratch, keep=keep) as target:
            where = target.database
            try:
                tool = restore(dump, target)
            except BackupError as exc:
                found.fail(f"the dump does not restore into {where}: {exc}")
                return found
            found.say(f"Restored {dump} ({kind}) into {where} with {tool}{' (kept)' if keep else ''}.")
            engine = sa.create_engine(target, poolclass=NullPool)
            try:
                with engine.connect() as conn:
                    _examine(conn, found, live=live, files=files)
            except sa.exc.DBAPIError as exc:
                found.fail(f"reading the restored database failed: {_first_line(exc)}")
            finally:
                engine.dispose()
    except BackupError as exc:
        found.fail(str(exc))
    return found


def _examine(conn: sa.Connection, found: Verification, *, live: URL | None, files: Path | None) -> None:
    counts = table_counts(conn, found)
    found.counts = counts
    tables = set(counts)
    _check_schema(conn, tables, found)
    found.say(f"Tables: {len(counts)}, {sum(counts.values()):,} rows.")
    for table, rows in counts.items():
        found.say(f"  {table:<28} {rows:>10,}")
    _check_documents(conn, tables, found, files)
    if live is not None:
        live_engine = sa.create_engine(live, poolclass=NullPool)
        try:
            with live_engine.connect() as live_conn:
                _compare_with_live(conn, live_conn, counts, found)
        finally:
            live_engine.dispose()
