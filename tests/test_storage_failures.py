"""Storage faults (issue 14, failure behaviour): a failing cache is a miss, a failed upload
shows the form again with what was typed, a constraint error names its field, staged
imports expire, and a missing or corrupted document says so."""

from __future__ import annotations

import hashlib
import html
import io
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from sqlalchemy import event

from app import clock
from app.extensions import db
from app.imports import uploads as import_uploads
from app.imports.staging import Staged, StagedExpired, Staging
from app.lifecycle import views as lifecycle_views
from app.models import Attachment, Blob, PdfCacheEntry, RecommendationEvent, Report, StagedUpload
from app.pdf import cache as pdf_cache
from app.pdf import engine
from app.pdf import options as pdf_options
from app.storage import DatabaseBlobStore, FileBlobStore, expire_staged
from app.storage.tasks import sweep_storage
from tests.conftest import login, rec, report_by_number, signed_in_now, submit, user_by_email, visible_text
from tests.test_attachments import PDF
from tests.test_imports_exports import _csv, _new_rows, _upload


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@contextmanager
def refused(
    table: str, verbs: tuple[str, ...] = ("INSERT",), error: type[sa.exc.DBAPIError] = sa.exc.OperationalError
) -> Iterator[list[str]]:
    """The database refuses statements of these kinds on this table (as a revoked grant
    or a full disk would); the statements refused, in order."""
    seen: list[str] = []

    def refuse(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        words = statement.split()
        if words and words[0].upper() in verbs and table in statement:
            seen.append(words[0].upper())
            raise error(statement, {}, Exception(f"permission denied for table {table}"))

    connection = db.session.get_bind()  # the test's connection, which every request shares
    event.listen(connection, "before_cursor_execute", refuse)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", refuse)


class BrokenStore:
    """A blob store whose every read and write fails, as a read-only or vanished
    directory does."""

    def put(self, session: Any, data: bytes) -> str:
        raise PermissionError(13, "Permission denied", "/srv/rectrack/attachments/ab")

    def get(self, session: Any, sha256: str) -> bytes | None:
        raise PermissionError(13, "Permission denied", "/srv/rectrack/attachments/ab")

    def remove_unreferenced(self, *args: Any) -> int:
        return 0


def _pdf_url() -> str:
    return f"/reports/{report_by_number('OIG-12-15').id}/status.pdf"


def _assert_pdf(response: Any) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.data.startswith(b"%PDF-")


# --- a failing cache is a miss ------------------------------------------------------------


def test_a_pdf_is_served_when_the_cache_table_refuses_writes(
    as_role, caplog: pytest.LogCaptureFixture
) -> None:
    client = as_role("viewer")
    url = _pdf_url()
    with caplog.at_level(logging.WARNING, logger="app.pdf.cache"), refused("pdf_cache") as seen:
        response = client.get(url)
    _assert_pdf(response)
    assert seen == ["INSERT"]
    assert "PDF cache write failed (OperationalError), not cached" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCacheEntry)) == 0
    # nothing else of the request was lost with the cache's savepoint: the download is audited
    from app.models import AuditEvent

    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "pdf")
        )
        >= 1
    )


def test_a_pdf_is_served_when_the_cache_table_refuses_reads(
    as_role, caplog: pytest.LogCaptureFixture
) -> None:
    client = as_role("viewer")
    url = _pdf_url()
    _assert_pdf(client.get(url))  # cached now
    with caplog.at_level(logging.WARNING, logger="app.pdf.cache"), refused("pdf_cache", ("SELECT",)) as seen:
        response = client.get(url)
    _assert_pdf(response)
    assert "SELECT" in seen
    assert "PDF cache read failed (OperationalError), treated as a miss" in caplog.text


def test_a_pdf_is_served_when_the_cache_store_fails(
    as_role, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A read-only or vanished cache directory: its store raises PermissionError, on the
    write of a new PDF and on the read of one cached before it failed."""
    client = as_role("viewer")
    url = _pdf_url()
    _assert_pdf(client.get(url))  # cached while the store worked
    cached = db.session.scalar(sa.select(sa.func.count()).select_from(PdfCacheEntry))
    monkeypatch.setattr(
        pdf_options, "PdfCache", lambda session, _store, ttl: pdf_cache.PdfCache(session, BrokenStore(), ttl)
    )
    with caplog.at_level(logging.WARNING, logger="app.pdf.cache"):
        again = client.get(url)
        other = client.get(f"/reports/{report_by_number('OIG-12-15').id}/status.pdf?as_of=2020-01-01")
    _assert_pdf(again)
    _assert_pdf(other)
    assert "PDF cache read failed (PermissionError), treated as a miss" in caplog.text
    assert "PDF cache write failed (PermissionError), not cached" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PdfCacheEntry)) == cached == 1


def test_a_cache_write_that_fails_after_its_file_leaves_no_file(tmp_path: Path) -> None:
    """The file store wrote the PDF's temporary file, then the table refused the row: the
    savepoint's file goes with it; the transaction's other files stay."""
    store = FileBlobStore(tmp_path)
    kept = store.put(db.session, b"another upload of this transaction\n")
    cache = pdf_cache.PdfCache(db.session, store, timedelta(hours=1))
    with refused("pdf_cache"):
        cache.put("k" * 64, b"%PDF-1.7 cached\n")
    assert len(_files(tmp_path)) == 1
    db.session.commit()
    assert _files(tmp_path) == [f"{kept[:2]}/{kept}"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_pdf_is_served_from_a_read_only_cache_directory(
    app: Flask, as_role, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "cache"
    root.mkdir()
    root.chmod(0o500)
    monkeypatch.setattr(
        pdf_options,
        "PdfCache",
        lambda session, _store, ttl: pdf_cache.PdfCache(session, FileBlobStore(root), ttl),
    )
    try:
        _assert_pdf(as_role("viewer").get(_pdf_url()))
    finally:
        root.chmod(0o700)


def test_a_cached_pdf_is_still_used_when_the_cache_works(as_role, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard does not turn every read into a miss."""
    client = as_role("viewer")
    first = client.get(_pdf_url())
    _assert_pdf(first)
    monkeypatch.setattr(engine, "render", lambda *a, **k: pytest.fail("rendered again"))
    assert client.get(_pdf_url()).data == first.data


def test_the_database_store_still_works_inside_a_savepoint() -> None:
    store = DatabaseBlobStore()
    cache = pdf_cache.PdfCache(db.session, store, timedelta(hours=1))
    cache.put("a" * 64, b"%PDF-1.7 kept\n")
    assert cache.get("a" * 64) == b"%PDF-1.7 kept\n"
    assert cache.get("b" * 64) is None


# --- a failed upload shows the form again ---------------------------------------------------

TYPED = {
    "response": "FEMA concurs; typed with care before the upload failed.",
    "corrective_action_plan": "A plan the liaison must not have to type again.",
    "responsible_official": "Director of Grant Programs",
}


def _respond(client: Any, attachment: bytes = PDF) -> Any:
    cpg = rec("OIG-12-15", 3)
    fema = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    data = {
        "concurrence": "concur",
        **TYPED,
        "target_date": "2027-06-30",
        "documents": [(io.BytesIO(attachment), "plan.pdf")],
    }
    url = f"/recommendations/{cpg.id}/components/{fema.id}/respond"
    return submit(client, url, data=data, content_type="multipart/form-data")


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)),
        db.session.scalar(sa.select(sa.func.count()).select_from(RecommendationEvent)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Blob)),
    )


def _assert_form_shown_again(response: Any, before: tuple[int, int, int]) -> None:
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    error = re.search(r'<span class="usa-error-message" id="documents-error">(.*?)</span>', page, re.S)
    assert error is not None, "no message next to the file field"
    assert "The file could not be stored; nothing was saved. Try again" in html.unescape(error.group(1))
    for value in TYPED.values():
        assert value in html.unescape(page)
    assert 'value="2027-06-30"' in page
    assert _counts() == before  # no event, no attachment, no blob: nothing half-saved
    assert rec("OIG-12-15", 3).addressees  # the page reloads cleanly after the rollback


def test_an_upload_the_store_refuses_shows_the_form_again(
    as_role, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = as_role("fema")
    before = _counts()
    monkeypatch.setattr(lifecycle_views, "blob_store", lambda _config: BrokenStore())
    with caplog.at_level(logging.ERROR, logger="app.lifecycle.attachments"):
        response = _respond(client)
    _assert_form_shown_again(response, before)
    fema = user_by_email("fema@test.example")
    assert re.search(
        rf"attachment not stored \(PermissionError\): recommendation \d+, user {fema.id}, ", caplog.text
    )
    assert TYPED["response"] not in caplog.text


def test_an_upload_the_blobs_table_refuses_shows_the_form_again(
    as_role, caplog: pytest.LogCaptureFixture
) -> None:
    client = as_role("fema")
    before = _counts()
    with caplog.at_level(logging.ERROR, logger="app.lifecycle.attachments"), refused("blobs") as seen:
        response = _respond(client)
    assert seen == ["INSERT"]
    _assert_form_shown_again(response, before)
    assert "attachment not stored (OperationalError)" in caplog.text


def test_an_upload_to_an_unusable_attachment_directory_shows_the_form_again(
    app: Flask, as_role, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """STORAGE_BACKEND=filesystem with an ATTACHMENT_DIR that cannot be written (here a
    plain file where the directory should be: refused even to root)."""
    not_a_directory = tmp_path / "attachments"
    not_a_directory.write_text("not a directory")
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(not_a_directory))
    client = as_role("fema")
    before = _counts()
    _assert_form_shown_again(_respond(client), before)
    assert _files(tmp_path) == ["attachments"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_an_upload_to_a_read_only_attachment_directory_shows_the_form_again(
    app: Flask, as_role, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "attachments"
    root.mkdir()
    root.chmod(0o500)
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(root))
    try:
        client = as_role("fema")
        before = _counts()
        _assert_form_shown_again(_respond(client), before)
    finally:
        root.chmod(0o700)
    assert _files(root) == []


def test_an_import_upload_that_cannot_be_staged_shows_the_form_again(
    as_role, caplog: pytest.LogCaptureFixture
) -> None:
    client = as_role("oig")
    with caplog.at_level(logging.ERROR, logger="app.imports.uploads"), refused("blobs"):
        response = _upload(client, _csv(_new_rows()), "new.csv")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    error = re.search(r'id="file-error">(.*?)</span>', page, re.S)
    assert error is not None
    assert error.group(1).startswith("The file could not be stored; nothing was saved. Try again")
    assert "new.csv can be imported" not in page  # no commit button for a file that is not kept
    assert not re.search(r'name="token"[^>]*value="[0-9a-f]{64}"', page)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StagedUpload)) == 0
    assert "import upload not staged (OperationalError)" in caplog.text


def test_a_staged_import_that_cannot_be_read_back_is_a_clear_409(
    as_role, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = as_role("oig")
    data = _csv(_new_rows())
    _upload(client, data, "new.csv")
    monkeypatch.setattr(import_uploads, "blob_store", lambda _config: BrokenStore())
    response = client.post("/import/commit", data={"token": hashlib.sha256(data).hexdigest()})
    assert response.status_code == 409
    assert "could not be read back from storage; nothing was imported" in visible_text(response)
    assert db.session.scalar(sa.select(Report).where(Report.number == "OIG-99-01")) is None


# --- a constraint error names its field -----------------------------------------------------


def _race(monkeypatch: pytest.MonkeyPatch, module: Any, insert: Any) -> None:
    """Between the form's uniqueness check and the write, another save writes the same
    value (`insert`, as another user's request would)."""
    checked = module._check

    def check_then_lose_the_race(session: Any, *args: Any, **kwargs: Any) -> Any:
        found = checked(session, *args, **kwargs)
        session.execute(insert)
        return found

    monkeypatch.setattr(module, "_check", check_then_lose_the_race)


def test_a_report_number_taken_by_a_racing_save_is_a_422_by_the_number_field(
    as_role, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from app.reports import services as report_services
    from tests.test_reports import _form

    _race(
        monkeypatch,
        report_services,
        sa.insert(Report).values(number="OIG-24-99", title="Logged by someone else a moment ago"),
    )
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Report))
    with caplog.at_level(logging.WARNING, logger="app.web"):
        response = as_role("oig").post("/reports/new", data=_form())
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    error = re.search(r'id="number-error">(.*?)</span>', page, re.S)
    assert error is not None, "no message by the number field"
    assert "Another report with this number was saved a moment ago." in error.group(1)
    assert "changed after you opened it" not in page
    assert "A test report about information sharing" in page, page  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == before
    assert "constraint uq_reports_number refused a save on reports.create" in caplog.text


def test_a_recommendation_number_taken_by_a_racing_save_is_a_422_by_the_number_field(
    as_role, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.models import Recommendation, TextSource
    from app.recommendations import services as rec_services
    from tests.test_recommendations import _form

    report = report_by_number("OIG-12-15")
    _race(
        monkeypatch,
        rec_services,
        sa.insert(Recommendation).values(
            report_id=report.id, number=5, text="Entered by someone else.", text_source=TextSource.VERBATIM
        ),
    )
    response = as_role("oig").post(f"/reports/{report.id}/recommendations/new", data=_form(number="5"))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    error = re.search(r'id="number-error">(.*?)</span>', page, re.S)
    assert error is not None, "no message by the number field"
    assert "Another recommendation with this number was saved on this report a moment ago." in error.group(1)


def _violate(statement: Any) -> sa.exc.IntegrityError:
    savepoint = db.session.begin_nested()
    try:
        db.session.execute(statement)
    except sa.exc.IntegrityError as exc:
        savepoint.rollback()
        return exc
    savepoint.rollback()
    raise AssertionError("the database accepted it")


def test_each_unique_constraint_a_form_can_hit_is_named_with_its_field() -> None:
    """On SQLite (the columns in the message) and PostgreSQL (the constraint's name)."""
    from app.constraints import refusal
    from app.models import Acronym, Addressee, Component, Recommendation, User

    cpg = rec("OIG-12-15", 3)
    shared = db.session.scalar(  # a recommendation addressed to two components or more
        sa.select(Addressee.recommendation_id)
        .group_by(Addressee.recommendation_id)
        .having(sa.func.count() > 1)
    )
    cases = {
        "uq_reports_number": (sa.insert(Report).values(number="OIG-12-15", title="t"), "number"),
        "uq_recommendations_report_id_number": (
            sa.insert(Recommendation).values(report_id=cpg.report_id, number=3, text="t"),
            "number",
        ),
        "uq_components_abbreviation": (
            sa.insert(Component).values(abbreviation="FEMA", name="t"),
            "abbreviation",
        ),
        "uq_users_email": (
            sa.insert(User).values(email="oig@test.example", display_name="t", password_hash="x", role="oig"),
            "email",
        ),
        "uq_addressees_recommendation_id_component_id": (
            sa.insert(Addressee).values(
                recommendation_id=cpg.id, component_id=cpg.addressees[0].component_id
            ),
            None,
        ),
        "uq_addressees_one_lead": (
            sa.update(Addressee).where(Addressee.recommendation_id == shared).values(is_lead=True),
            None,
        ),
    }
    known = db.session.scalar(sa.select(Acronym.acronym).limit(1))
    if known is None:
        known = "HSIN"
        db.session.execute(
            sa.insert(Acronym).values(acronym=known, expansion="Homeland Security Information Network")
        )
    cases["uq_acronyms_acronym"] = (sa.insert(Acronym).values(acronym=known, expansion="t"), "acronym")
    for name, (statement, field) in cases.items():
        error = refusal(_violate(statement))
        assert (error.constraint, error.field, error.status) == (name, field, 422), name
        assert error.message.endswith("Nothing was saved; change it and save again."), name


def test_an_unknown_constraint_is_a_422_without_a_field() -> None:
    from app.constraints import OTHER, refusal
    from app.models import Recommendation

    cpg = rec("OIG-12-15", 3)
    error = refusal(_violate(sa.update(Recommendation).where(Recommendation.id == cpg.id).values(number=-1)))
    assert (error.field, error.status, error.message) == (None, 422, OTHER)
    assert "number_positive" in (error.constraint or "")


def test_an_integrity_error_outside_a_form_is_the_422_page_not_the_409(database_url: str) -> None:
    from app import create_app
    from config import TestingConfig

    other = create_app(TestingConfig(database_url))

    @other.route("/race")
    def race() -> str:
        db.session.execute(sa.insert(Report).values(number="OIG-12-15", title="t"))
        return "saved"

    client = other.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = user_by_email("oig@test.example").get_id()
        signed_in_now(sess)
    response = client.get("/race")
    assert response.status_code == 422
    text = visible_text(response)
    assert "Another report with this number was saved a moment ago." in text
    assert "changed after you opened it" not in text


def test_a_database_refusal_after_the_file_was_written_leaves_no_file(
    app: Flask, as_role, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file store wrote the upload, then the database refused the attachment's row:
    the rollback removes the file, and the form shows again (not the 409)."""
    root = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(root))
    client = as_role("fema")
    before = _counts()
    with refused("attachments", error=sa.exc.IntegrityError) as seen:
        response = _respond(client)
    assert seen == ["INSERT"]
    assert response.status_code == 422
    assert "changed after you opened it" not in response.get_data(as_text=True)
    assert TYPED["response"] in html.unescape(response.get_data(as_text=True))
    assert _counts() == before
    assert _files(root) == []  # the upload's file went with the rollback
    assert root.is_dir()  # it was written (the directory made for it), then removed


# --- staged imports expire and are swept -----------------------------------------------------

T0 = datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
SHEET = b"report_number,report_title\nOIG-1,A staged file\n"


def _oig_id() -> int:
    return user_by_email("oig@test.example").id


@pytest.mark.parametrize(
    ("waited", "waiting"),
    [
        (timedelta(hours=23, minutes=59, seconds=59), True),  # the second before
        (timedelta(hours=24), False),  # on the TTL
        (timedelta(days=1, hours=1), False),  # the hour after
        (timedelta(days=2), False),  # the day after
    ],
)
def test_a_staged_upload_expires_on_its_ttl(waited: timedelta, waiting: bool) -> None:
    ttl = timedelta(hours=24)
    with time_machine.travel(T0, tick=False):
        token = Staging(db.session, DatabaseBlobStore(), _oig_id(), ttl).put(SHEET, "staged.csv")
    with time_machine.travel(T0 + waited, tick=False):
        staging = Staging(db.session, DatabaseBlobStore(), _oig_id(), ttl)
        if waiting:
            assert staging.get(token) == Staged(SHEET, "staged.csv")
        else:
            with pytest.raises(StagedExpired):
                staging.get(token)
        assert expire_staged(db.session, now=clock.now(), ttl=ttl) == (0 if waiting else 1)
    remaining = db.session.scalar(sa.select(sa.func.count()).select_from(StagedUpload))
    assert remaining == (1 if waiting else 0)


@pytest.mark.parametrize(
    ("waited", "kept"),
    [
        (timedelta(hours=1, minutes=59), True),  # the minute before a 2-hour TTL
        (timedelta(hours=2), False),  # on it
        (timedelta(hours=3), False),  # the hour after
    ],
)
def test_the_scheduled_sweep_removes_expired_uploads_and_their_bytes(
    app: Flask, monkeypatch: pytest.MonkeyPatch, waited: timedelta, kept: bool
) -> None:
    monkeypatch.setitem(app.config, "STAGED_IMPORT_TTL_HOURS", 2)
    with time_machine.travel(T0, tick=False):
        token = Staging(db.session, DatabaseBlobStore(), _oig_id()).put(SHEET, "staged.csv")
        db.session.commit()
    # .run: this app's context (the shared task's own would push the last app created)
    with time_machine.travel(T0 + waited, tick=False), app.app_context():
        assert sweep_storage.run() == ([0, 0] if kept else [1, 1])
    assert (db.session.get(Blob, token) is not None) == kept
    assert (
        db.session.scalar(sa.select(StagedUpload.id).where(StagedUpload.token == token)) is not None
    ) == kept


def test_beat_runs_the_sweep(app: Flask) -> None:
    celery = app.extensions["celery"]
    entry = next(e for e in celery.conf.beat_schedule.values() if e["task"] == "rectrack.sweep_storage")
    assert entry["schedule"] <= 3600  # often enough that an expired file goes within the hour
    assert "app.storage.tasks" in celery.conf.include  # a worker registers the task at start
    assert "rectrack.sweep_storage" in celery.tasks


def test_storage_gc_honours_the_ttl_setting(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command for cron, where no beat runs."""
    monkeypatch.setitem(app.config, "STAGED_IMPORT_TTL_HOURS", 2)
    with time_machine.travel(T0, tick=False):
        token = Staging(db.session, DatabaseBlobStore(), _oig_id()).put(SHEET, "staged.csv")
        db.session.commit()
    with time_machine.travel(T0 + timedelta(hours=1, minutes=59), tick=False):
        assert app.test_cli_runner().invoke(args=["storage", "gc"]).exit_code == 0
        assert db.session.get(Blob, token) is not None
    with time_machine.travel(T0 + timedelta(hours=2), tick=False):
        result = app.test_cli_runner().invoke(args=["storage", "gc"])
    assert result.output == "Removed 1 stored file nothing refers to.\n"
    assert db.session.get(Blob, token) is None


@pytest.mark.parametrize(("waited", "status"), [(timedelta(hours=23), 302), (timedelta(hours=25), 409)])
def test_a_commit_after_the_dry_run_expired_says_so(client: Any, waited: timedelta, status: int) -> None:
    data = _csv(_new_rows())
    with time_machine.travel(T0, tick=False):
        login(client, "oig")
        assert "new.csv can be imported" in visible_text(_upload(client, data, "new.csv"))
    with time_machine.travel(T0 + waited, tick=False):
        login(client, "oig")
        response = client.post("/import/commit", data={"token": hashlib.sha256(data).hexdigest()})
    assert response.status_code == status
    imported = db.session.scalar(sa.select(Report).where(Report.number == "OIG-99-01")) is not None
    assert imported == (status == 302)
    if status == 409:
        assert "This dry run expired; upload the file again. A checked file waits 24 hours" in visible_text(
            response
        )


# --- a missing or corrupted document ---------------------------------------------------------


def _uploaded(client: Any, content: bytes) -> Attachment:
    login(client, "fema")
    assert _respond(client, content).status_code == 302
    return db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))


def _assert_missing_page(response: Any) -> None:
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    text = visible_text(response)
    assert "Document missing" in text
    assert "This document is missing; the administrators have been told." in text


def _failed_downloads(attachment_id: int) -> list[dict[str, Any]]:
    from app.models import AuditEvent

    events = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "download",
            AuditEvent.object_id == attachment_id,
            AuditEvent.outcome == "failure",
        )
    )
    return [e.changes for e in events]


@pytest.mark.parametrize("fault", ["deleted", "corrupted"])
def test_a_missing_or_corrupted_document_is_told_and_logged(
    client: Any, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    content = PDF + f"% {fault}\n".encode()
    attachment = _uploaded(client, content)
    if fault == "deleted":
        db.session.execute(sa.delete(Blob).where(Blob.sha256 == attachment.sha256))
    else:
        db.session.execute(
            sa.update(Blob)
            .where(Blob.sha256 == attachment.sha256)
            .values(data=content.replace(b"%", b"#", 1))
        )
    with caplog.at_level(logging.ERROR, logger="app.lifecycle.views"):
        response = client.get(f"/attachments/{attachment.id}")
    _assert_missing_page(response)
    problem = "missing" if fault == "deleted" else "corrupted"
    assert (
        f"document {attachment.id} of recommendation {attachment.recommendation_id} is {problem}: "
        f"sha256 {attachment.sha256}"
    ) in caplog.text
    assert TYPED["response"] not in caplog.text
    [details] = _failed_downloads(attachment.id)
    assert details["problem"] == problem
    assert details["sha256"] == attachment.sha256


def test_a_document_the_store_cannot_read_is_told_too(
    client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    attachment = _uploaded(client, PDF + b"% unreadable\n")
    monkeypatch.setattr(lifecycle_views, "blob_store", lambda _config: BrokenStore())
    with caplog.at_level(logging.ERROR, logger="app.lifecycle.views"):
        response = client.get(f"/attachments/{attachment.id}")
    _assert_missing_page(response)
    assert "is unreadable (PermissionError)" in caplog.text
    assert [d["problem"] for d in _failed_downloads(attachment.id)] == ["unreadable (PermissionError)"]


def test_a_file_store_document_whose_file_was_removed_or_changed(
    app: Flask, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "attachments"
    monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
    monkeypatch.setitem(app.config, "ATTACHMENT_DIR", str(root))
    attachment = _uploaded(client, PDF + b"% on disk\n")
    path = root / attachment.sha256[:2] / attachment.sha256
    assert client.get(f"/attachments/{attachment.id}").status_code == 200
    path.write_bytes(b"%PDF-1.7 not what was stored\n")
    _assert_missing_page(client.get(f"/attachments/{attachment.id}"))
    path.unlink()
    _assert_missing_page(client.get(f"/attachments/{attachment.id}"))


def test_storage_work_apart_that_fails_in_its_flush_leaves_the_transaction_usable() -> None:
    """A row whose INSERT fails only when the savepoint flushes it."""
    from app.storage import apart

    before = db.session.scalar(sa.select(sa.func.count()).select_from(Blob))
    with pytest.raises(sa.exc.IntegrityError), apart(db.session):
        db.session.add(Blob(sha256="short", size_bytes=1, data=b"x"))  # breaks sha256_length
    db.session.add(Blob(sha256="c" * 64, size_bytes=1, data=b"x"))
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Blob)) == before + 1
