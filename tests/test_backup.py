"""Backups (issue 14): a dump taken while the app writes restores into a new database, and
the app on the restored database serves the same pages and the same documents;
`flask --app app backup verify` passes that dump and fails a truncated or tampered one.

The PostgreSQL tests build databases of their own, named after the suite's
(<TEST_DATABASE_URL's database>_bk_source, _bk_restored, _bk_verify), and drop them at
the end. Skipped on SQLite (the SQLite copy has its own test below).
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from app import audit, backup, clock, create_app, storage
from app.auth import services as accounts
from app.cache import derived
from app.extensions import db
from app.models import (
    Addressee,
    Attachment,
    Component,
    EventKind,
    Recommendation,
    RecommendationEvent,
    RecStatus,
    Report,
    Role,
)
from app.seed.services import load_seed
from config import TestingConfig
from tests.conftest import FIXTURE_SEED, PASSWORD, submit, visible_text

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
on_postgresql = pytest.mark.skipif(
    not PG_URL.startswith("postgresql"), reason="backups with pg_dump need PostgreSQL (make test-pg)"
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n% backup test plan\n"
NOTES = "Progress notes for the backup test — FEMA, 54 EOCs.\n".encode()
DOCUMENTS = {"FEMA plan.pdf": PDF, "notes.txt": NOTES}
WRITES_AFTER = 3  # revisions committed after the dump has finished
DUMP_ATTEMPTS = 10  # dumps taken until one overlaps a committed write (the first, as a rule)
PADDING_BLOBS, PADDING_BYTES = 16, 1024 * 1024  # random bytes: pg_dump cannot compress them away


def _drop(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def databases() -> Iterator[dict[str, URL]]:
    """Empty source and restore databases, and the name verify may use; all dropped after."""
    base = make_url(PG_URL)
    urls = {
        role: base.set(database=f"{base.database}_bk_{role}") for role in ("source", "restored", "verify")
    }
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    for url in urls.values():
        _drop(admin, str(url.database))
    for role in ("source", "restored"):
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{urls[role].database}"')
    yield urls
    for url in urls.values():
        _drop(admin, str(url.database))
    admin.dispose()


def _app(url: URL, tmp_path: Path, storage_backend: str = "database") -> Flask:
    config = TestingConfig(url.render_as_string(hide_password=False))
    config.STORAGE_BACKEND = storage_backend
    config.ATTACHMENT_DIR = str(tmp_path / f"attachments-{url.database}")  # for "filesystem"
    return create_app(config)


def _sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, email
    # the sign-in's messages (among them the previous sign-in, which differs between the
    # live and the restored database) are shown once, here, not on the pages compared
    client.get(response.headers["Location"])


@dataclass
class Source:
    app: Flask
    cpg_id: int  # OIG-12-15 #3: the recommendation with the two documents
    fema_id: int  # its FEMA addressee
    written_id: int  # another open recommendation, whose response the writer keeps revising
    written_part: int  # the writer's component's part of it


def _build_source(url: URL, tmp_path: Path, storage_backend: str = "database") -> Source:
    """A migrated database with the suite's seed reports, accounts, and two documents
    uploaded through the app."""
    app = _app(url, tmp_path, storage_backend)
    with app.app_context():
        upgrade()
        actor = audit.AuditActor.system("tests: backup")
        audit.set_actor(db.session, actor)
        load_seed(db.session, actor, FIXTURE_SEED, today=clock.today())

        def find(*where: sa.ColumnElement[bool]) -> tuple[int, int, str]:
            row = db.session.execute(
                sa.select(Recommendation.id, Addressee.id, Component.abbreviation)
                .join(Report, Report.id == Recommendation.report_id)
                .join(Addressee, Addressee.recommendation_id == Recommendation.id)
                .join(Component, Component.id == Addressee.component_id)
                .where(*where)
                .order_by(Addressee.id)
                .limit(1)
            ).one()
            return row[0], row[1], row[2]

        cpg_id, fema_id, _ = find(
            Report.number == "OIG-12-15", Recommendation.number == 3, Component.abbreviation == "FEMA"
        )
        # Another open recommendation's component part, which the writer answers again and again.
        written_id, written_part, written_by = find(
            Recommendation.id != cpg_id, Recommendation.status == RecStatus.OPEN_UNRESOLVED
        )
        comps = {c.abbreviation: c for c in db.session.scalars(sa.select(Component))}
        for email, role, components in (
            ("oig@backup.example", Role.OIG, []),
            ("fema@backup.example", Role.LIAISON, [comps["FEMA"]]),
            ("writer@backup.example", Role.LIAISON, [comps[written_by]]),
        ):
            accounts.create_user(
                db.session,
                email=email,
                display_name=email.split("@")[0],
                role=role,
                password=PASSWORD,
                components=components,
            )
        db.session.commit()
        db.session.remove()

    fema = app.test_client()
    _sign_in(fema, "fema@backup.example")
    documents = [(io.BytesIO(data), name) for name, data in DOCUMENTS.items()]
    assert _respond(fema, cpg_id, fema_id, "FEMA concurs.", documents=documents).status_code == 302
    writer = app.test_client()
    _sign_in(writer, "writer@backup.example")  # its first response changes the dashboard's counts
    assert _respond(writer, written_id, written_part, "First response.").status_code == 302
    return Source(app, cpg_id, fema_id, written_id, written_part)


def _respond(client: FlaskClient, rec_id: int, part_id: int, text: str, documents: list | None = None):
    """Submit (or revise) a component's response, as its liaison does with the form."""
    return submit(
        client,
        f"/recommendations/{rec_id}/components/{part_id}/respond",
        data={
            "concurrence": "concur",
            "response": text,
            "corrective_action_plan": "Plan.",
            "target_date": (clock.today() + timedelta(days=90)).isoformat(),
            "responsible_official": "Director",
            "documents": documents or [],
        },
        content_type="multipart/form-data",
    )


class Writer(threading.Thread):
    """A liaison revising a response one revision after another until told to stop; each
    is committed when the app's answer comes back."""

    def __init__(self, source: Source) -> None:
        super().__init__(daemon=True)
        self.client = source.app.test_client()
        self.source = source
        self.done = 0
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            _sign_in(self.client, "writer@backup.example")
            while not self.stop.is_set():
                text = f"Backup test revision {self.done}"
                response = _respond(self.client, self.source.written_id, self.source.written_part, text)
                assert response.status_code == 302, response.get_data(as_text=True)[:500]
                with self.progress:
                    self.done += 1
                    self.progress.notify_all()
        except BaseException as exc:  # reported by the test's thread
            self.error = exc
            with self.progress:
                self.progress.notify_all()

    def wait_for(self, count: int) -> int:
        with self.progress:
            ok = self.progress.wait_for(lambda: self.done >= count or self.error is not None, timeout=120)
        assert ok, f"{count} updates not posted in 120 s"
        assert self.error is None, self.error
        return self.done


def _pages(app: Flask, source: Source) -> dict[str, str]:
    """What an OIG reader sees on the pages the writer does not change."""
    derived.clear()  # nothing cached for one database may answer for another
    client = app.test_client()
    _sign_in(client, "oig@backup.example")
    pages = {}
    for path in ("/", "/reports", f"/recommendations/{source.cpg_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = visible_text(response)
    return pages


def _documents(app: Flask, recommendation_id: int) -> dict[str, tuple[str, bytes]]:
    """Each document's name -> (its recorded SHA-256, the bytes a download gives)."""
    client = app.test_client()
    _sign_in(client, "oig@backup.example")
    with app.app_context():
        rows = db.session.execute(
            sa.select(Attachment.id, Attachment.original_name, Attachment.sha256).where(
                Attachment.recommendation_id == recommendation_id
            )
        ).all()
        db.session.remove()
    found = {}
    for attachment_id, name, sha in rows:
        response = client.get(f"/attachments/{attachment_id}")
        assert response.status_code == 200, name
        found[name] = (sha, response.data)
    return found


def _updates(app: Flask, source: Source) -> list[str]:
    with app.app_context():
        notes = db.session.scalars(
            sa.select(RecommendationEvent.note)
            .where(
                RecommendationEvent.recommendation_id == source.written_id,
                RecommendationEvent.kind == EventKind.RESPONSE_REVISED,
            )
            .order_by(RecommendationEvent.id)
        ).all()
        db.session.remove()
    return list(notes)


def _verify(app: Flask, dump: Path, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["backup", "verify", str(dump), *args])
    return result.exit_code, result.output


def _exists(url: URL) -> bool:
    engine = sa.create_engine(url.set(database="postgres"), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
            return found.first() is not None
    finally:
        engine.dispose()


@on_postgresql
@pytest.mark.own_database
def test_a_backup_taken_while_the_app_writes_restores_to_the_same_pages_and_documents(
    databases: dict[str, URL], tmp_path: Path
) -> None:
    source = _build_source(databases["source"], tmp_path)
    expected_pages = _pages(source.app, source)
    assert "FEMA plan.pdf" in expected_pages[f"/recommendations/{source.cpg_id}"]
    expected_documents = {name: (hashlib.sha256(data).hexdigest(), data) for name, data in DOCUMENTS.items()}
    assert _documents(source.app, source.cpg_id) == expected_documents

    # The dump is taken while a liaison keeps revising a response.
    # Bulk, so that pg_dump runs long enough for writes to land while it does.
    with source.app.app_context():
        store = storage.DatabaseBlobStore()
        padding = {store.put(db.session, os.urandom(PADDING_BYTES)) for _ in range(PADDING_BLOBS)}
        db.session.commit()
        db.session.remove()
    writer = Writer(source)
    writer.start()
    dump = tmp_path / "rectrack.dump"
    try:
        for _attempt in range(DUMP_ATTEMPTS):
            before = writer.wait_for(writer.done + 1)
            result = source.app.test_cli_runner().invoke(args=["backup", "create", str(dump)])
            assert result.exit_code == 0, result.output
            assert "pg_dump, custom format" in result.output
            if writer.done > before:  # a revision was committed while pg_dump ran
                break
        else:
            pytest.fail(f"no write committed while pg_dump ran, in {DUMP_ATTEMPTS} attempts")
        writer.wait_for(writer.done + WRITES_AFTER)
    finally:
        writer.stop.set()
        writer.join(timeout=120)
    assert writer.error is None, writer.error
    written = _updates(source.app, source)
    assert written == [f"Backup test revision {i}" for i in range(writer.done)]
    after = len(written)
    # The writes did not touch the compared pages: the source still shows what it did.
    assert _pages(source.app, source) == expected_pages

    # Restore as docs/backups.md says: a new database, pg_restore, flask db upgrade, start.
    uri, env = backup.libpq(databases["restored"])
    subprocess.run(
        ["pg_restore", "--exit-on-error", "--single-transaction", "--dbname", uri, str(dump)],
        env=env,
        check=True,
        capture_output=True,
    )
    restored = _app(databases["restored"], tmp_path)
    with restored.app_context():
        upgrade()  # already at the head: nothing to do
        db.engine.dispose()

    assert _pages(restored, source) == expected_pages
    assert _documents(restored, source.cpg_id) == expected_documents
    # One consistent snapshot: exactly the revisions committed before some instant while
    # pg_dump ran (every one committed before it started, none half there).
    kept = _updates(restored, source)
    print("DEBUG", _attempt, before, len(kept), after)
    assert before <= len(kept) <= after
    assert kept == written[: len(kept)]

    # verify passes the dump (custom format, and a plain SQL dump too) and drops its database.
    code, output = _verify(source.app, dump, "--scratch", str(databases["verify"].database))
    assert code == 0, output
    assert "this code's head" in output
    stored = len(DOCUMENTS) + len(padding)
    assert f"Documents: {stored} of {stored} stored documents match their SHA-256" in output
    assert output.strip().endswith("OK: the backup restores and its documents are intact.")
    assert not _exists(databases["verify"])
    plain = tmp_path / "rectrack.sql"
    subprocess.run(["pg_dump", "--file", str(plain), "--dbname", uri], env=env, check=True)
    code, output = _verify(source.app, plain, "--scratch", str(databases["verify"].database))
    assert code == 0, output
    assert "with psql" in output

    # Against the live database: the tables written since the dump differ, the others not.
    code, output = _verify(source.app, dump, "--against-live", "--scratch", str(databases["verify"].database))
    assert code == 1, output
    problems = [line for line in output.splitlines() if line.startswith("PROBLEM: ")]
    assert {line.split(":")[1].strip() for line in problems} >= {"recommendation_events", "audit_events"}
    assert not any(line.startswith(("PROBLEM: reports:", "PROBLEM: blobs:")) for line in problems)
    with restored.app_context():
        db.engine.dispose()


@on_postgresql
@pytest.mark.own_database
def test_verify_fails_a_truncated_dump_and_a_tampered_document(
    databases: dict[str, URL], tmp_path: Path
) -> None:
    source = _build_source(databases["source"], tmp_path)
    scratch = ("--scratch", str(databases["verify"].database))
    dump = tmp_path / "rectrack.dump"
    with source.app.app_context():
        backup.create_dump(db.engine.url, dump)
        db.engine.dispose()
    code, output = _verify(source.app, dump, *scratch)
    assert code == 0, output

    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    code, output = _verify(source.app, truncated, *scratch)
    assert code == 1
    assert "PROBLEM: the dump does not restore" in output
    assert "pg_restore failed" in output
    assert "FAILED: 1 problem(s)." in output
    assert not _exists(databases["verify"])  # dropped after the failure too

    # A document whose bytes changed and one that is gone, in an otherwise good dump.
    pdf_sha, notes_sha = (
        hashlib.sha256(DOCUMENTS[name]).hexdigest() for name in ("FEMA plan.pdf", "notes.txt")
    )
    engine = sa.create_engine(databases["source"], poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE blobs SET data = :d WHERE sha256 = :s"), {"d": PDF + b"x", "s": pdf_sha})
        conn.execute(sa.text("DELETE FROM blobs WHERE sha256 = :s"), {"s": notes_sha})
    engine.dispose()
    tampered = tmp_path / "tampered.dump"
    with source.app.app_context():
        backup.create_dump(db.engine.url, tampered)
        db.engine.dispose()
    code, output = _verify(source.app, tampered, *scratch)
    assert code == 1, output
    bad_hash = hashlib.sha256(PDF + b"x").hexdigest()
    assert f"PROBLEM: stored document {pdf_sha} holds bytes whose SHA-256 is {bad_hash}" in output
    assert "Documents: 0 of 1 stored document match their SHA-256" in output
    assert "PROBLEM: attachments.sha256: 2 documents missing or damaged" in output
    assert not _exists(databases["verify"])

    # A server that cannot be reached is a problem in the report, not a traceback.
    code, output = _verify(source.app, dump, "--server", "postgresql+psycopg://postgres@127.0.0.1:1/postgres")
    assert code == 1
    assert "PROBLEM: Cannot create the scratch database rectrack_verify_" in output
    assert "Traceback" not in output

    # The scratch database is never one that exists already, nor the app's own.
    code, output = _verify(source.app, dump, "--scratch", str(databases["source"].database))
    assert code == 1
    assert "cannot be" in output
    assert _exists(databases["source"])


@on_postgresql
@pytest.mark.own_database
def test_verify_checks_document_files_with_filesystem_storage(
    databases: dict[str, URL], tmp_path: Path
) -> None:
    """With STORAGE_BACKEND=filesystem the documents are files under ATTACHMENT_DIR, not in
    the dump: verify checks the copied folder (--files) against the restored rows."""
    source = _build_source(databases["source"], tmp_path, storage_backend="filesystem")
    folder = Path(source.app.config["ATTACHMENT_DIR"])
    dump = tmp_path / "rectrack.dump"
    with source.app.app_context():
        backup.create_dump(db.engine.url, dump)
        db.engine.dispose()
    copy = tmp_path / "attachments-copy"
    shutil.copytree(folder, copy)  # the documented order: the dump first, then the files
    scratch = ("--scratch", str(databases["verify"].database))

    code, output = _verify(source.app, dump, *scratch, "--files", str(copy))
    assert code == 0, output
    assert f"Documents: 2 files under {copy} match their SHA-256." in output
    code, output = _verify(source.app, dump, *scratch)  # ATTACHMENT_DIR itself, by default
    assert code == 0, output
    assert f"Documents: 2 files under {folder} match their SHA-256." in output

    pdf_sha, notes_sha = (
        hashlib.sha256(DOCUMENTS[name]).hexdigest() for name in ("FEMA plan.pdf", "notes.txt")
    )
    (copy / pdf_sha[:2] / pdf_sha).write_bytes(PDF + b"x")
    (copy / notes_sha[:2] / notes_sha).unlink()
    code, output = _verify(source.app, dump, *scratch, "--files", str(copy))
    assert code == 1, output
    assert f"PROBLEM: document file {copy / pdf_sha[:2] / pdf_sha} holds bytes whose SHA-256 is" in output
    assert "PROBLEM: attachments.sha256: 2 documents missing or damaged" in output


def test_backup_create_copies_a_sqlite_database_while_it_is_open(tmp_path: Path) -> None:
    """On SQLite `backup create` copies the file with the online backup API; `backup
    verify` says it needs PostgreSQL."""
    path = tmp_path / "live.db"
    app = create_app(TestingConfig(f"sqlite:///{path}"))
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.exec_driver_sql("INSERT INTO notes (text) VALUES ('one'), ('two')")
    holder = sqlite3.connect(path)  # another connection holds the database open, mid-transaction
    holder.execute("BEGIN")
    holder.execute("INSERT INTO notes (text) VALUES ('uncommitted')")
    out = tmp_path / "copy.db"
    result = app.test_cli_runner().invoke(args=["backup", "create", str(out)])
    holder.rollback()
    holder.close()
    assert result.exit_code == 0, result.output
    assert "SQLite online backup" in result.output
    copy = sqlite3.connect(out)
    assert copy.execute("SELECT text FROM notes ORDER BY id").fetchall() == [("one",), ("two",)]
    copy.close()
    result = app.test_cli_runner().invoke(args=["backup", "verify", str(out)])
    assert result.exit_code == 2
    assert "backup verify needs PostgreSQL" in result.output
    with app.app_context():
        db.engine.dispose()
