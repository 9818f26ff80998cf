"""Shared storage (app/storage): bytes kept with the transaction that stores them, read by
any app server, collected once nothing refers to them."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from app import create_app
from app.database import utcnow
from app.extensions import db
from app.imports.staging import Staging
from app.models import Attachment, Blob, Report, StagedUpload, User
from app.storage import (
    REFERENCES,
    DatabaseBlobStore,
    FileBlobStore,
    blob_store,
    collect_garbage,
    register_reference,
)
from config import TestingConfig
from tests.conftest import login, rec, user_by_email
from tests.test_attachments import PDF, _respond_with
from tests.test_imports_exports import _csv, _new_rows, _upload


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blob_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Blob))


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- the database back end ------------------------------------------------------------


def test_the_same_bytes_twice_are_one_blob() -> None:
    store = DatabaseBlobStore()
    first = store.put(db.session, b"evidence,1\n")
    second = store.put(db.session, b"evidence,1\n")
    other = store.put(db.session, b"evidence,2\n")
    assert first == second == "8af5cfc4bfba76906c3cabab98cb637464cece25a66beb02af99fb0b912ae3c9"
    assert other != first
    assert _blob_rows() == 2
    blob = db.session.get(Blob, first)
    assert (blob.data, blob.size_bytes) == (b"evidence,1\n", 11)
    assert store.get(db.session, first) == b"evidence,1\n"
    assert store.get(db.session, "0" * 64) is None


def test_a_rolled_back_transaction_leaves_no_blob() -> None:
    store = DatabaseBlobStore()
    sha = store.put(db.session, b"never kept\n")
    assert store.get(db.session, sha) == b"never kept\n"  # visible inside the transaction
    db.session.rollback()
    assert store.get(db.session, sha) is None
    assert _blob_rows() == 0


def test_a_committed_blob_stays() -> None:
    store = DatabaseBlobStore()
    sha = store.put(db.session, b"kept\n")
    db.session.commit()
    db.session.rollback()
    assert store.get(db.session, sha) == b"kept\n"


def test_two_transactions_storing_the_same_bytes_at_once_make_one_row(database_url: str) -> None:
    """PostgreSQL: the second INSERT waits for the first transaction's row, then does
    nothing instead of failing on the primary key."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; the race exists on PostgreSQL only")
    data = b"stored by two servers at once\n"
    sha = _sha(data)
    engine = sa.create_engine(database_url)
    store = DatabaseBlobStore()
    errors: list[BaseException] = []
    try:
        first = Session(engine)
        store.put(first, data)  # inserted, not committed: the second cannot see it yet
        second_done = threading.Event()

        def second_server() -> None:
            try:
                with Session(engine) as second:
                    store.put(second, data)
                    second.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)
            finally:
                second_done.set()

        thread = threading.Thread(target=second_server)
        thread.start()
        assert not second_done.wait(0.5)  # waiting on the first transaction's row
        first.commit()
        first.close()
        thread.join(10)
        assert errors == []
        with engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT count(*) FROM blobs WHERE sha256 = :s"), {"s": sha}).scalar()
                == 1
            )
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM blobs WHERE sha256 = :s"), {"s": sha})
        engine.dispose()


# --- the file system back end ---------------------------------------------------------


def test_file_store_moves_the_file_into_place_only_when_the_transaction_commits(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    sha = store.put(db.session, b"file evidence\n")
    assert store.get(db.session, sha) is None  # still a temporary file
    assert [name.split("/")[1][:8] for name in _files(tmp_path)] == [".upload-"]
    db.session.commit()
    assert _files(tmp_path) == [f"{sha[:2]}/{sha}"]
    assert store.get(db.session, sha) == b"file evidence\n"
    assert store.put(db.session, b"file evidence\n") == sha  # already there: nothing new
    db.session.commit()
    assert _files(tmp_path) == [f"{sha[:2]}/{sha}"]


def test_file_store_leaves_no_file_after_a_rollback(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    sha = store.put(db.session, b"rolled back\n")
    assert len(_files(tmp_path)) == 1
    db.session.rollback()
    assert _files(tmp_path) == []
    assert store.get(db.session, sha) is None
    db.session.commit()  # a later commit does not bring it back
    assert _files(tmp_path) == []


def test_file_store_keeps_what_the_transaction_stored_when_only_a_savepoint_rolls_back(
    tmp_path: Path,
) -> None:
    store = FileBlobStore(tmp_path)
    sha = store.put(db.session, b"kept after a savepoint\n")
    savepoint = db.session.begin_nested()
    savepoint.rollback()  # not the transaction's end: the file still waits for the commit
    assert len(_files(tmp_path)) == 1
    db.session.commit()
    assert _files(tmp_path) == [f"{sha[:2]}/{sha}"]


def test_the_setting_picks_the_back_end(tmp_path: Path) -> None:
    assert isinstance(blob_store({}), DatabaseBlobStore)
    assert isinstance(blob_store({"STORAGE_BACKEND": "database"}), DatabaseBlobStore)
    files = blob_store({"STORAGE_BACKEND": "filesystem", "ATTACHMENT_DIR": str(tmp_path)})
    assert isinstance(files, FileBlobStore)
    assert files.root == tmp_path
    with pytest.raises(RuntimeError, match="Unknown STORAGE_BACKEND 's3'"):
        blob_store({"STORAGE_BACKEND": "s3"})


def test_an_unknown_backend_stops_the_app_at_start(database_url: str) -> None:
    config = TestingConfig(database_url)
    config.STORAGE_BACKEND = "s3"
    with pytest.raises(RuntimeError, match="Unknown STORAGE_BACKEND 's3'; use database or filesystem"):
        create_app(config)


# --- a second app server ---------------------------------------------------------------


@pytest.fixture
def second_server(database_url: str, tmp_path: Path) -> Flask:
    """Another app instance on the same database, with an empty directory of its own:
    what it serves can only come from the database."""
    config = TestingConfig(database_url)
    config.ATTACHMENT_DIR = str(tmp_path / "empty")
    return create_app(config)


def test_a_document_uploaded_on_one_server_downloads_from_another(
    app: Flask, client, second_server: Flask
) -> None:
    login(client, "fema")
    data = PDF + b"% uploaded on server A\n"
    assert _respond_with(client, [(data, "plan.pdf")]).status_code == 302
    attachment = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    assert attachment.sha256 == _sha(data)
    assert _files(Path(app.config["ATTACHMENT_DIR"])) == []  # nothing written to disk

    other = second_server.test_client()
    login(other, "fema")
    response = other.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "attachment; filename=plan.pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert not Path(second_server.config["ATTACHMENT_DIR"]).exists()


def test_a_document_whose_bytes_are_gone_is_a_404(client) -> None:
    login(client, "fema")
    assert _respond_with(client, [(PDF + b"% gone\n", "gone.pdf")]).status_code == 302
    attachment = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    db.session.execute(sa.delete(Blob).where(Blob.sha256 == attachment.sha256))
    assert client.get(f"/attachments/{attachment.id}").status_code == 404


def test_an_import_checked_on_one_server_is_committed_on_another(client, second_server: Flask) -> None:
    login(client, "oig")
    data = _csv(_new_rows())
    response = _upload(client, data, "two-servers.csv")
    assert "two-servers.csv can be imported" in response.get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{64})"', response.get_data(as_text=True)).group(1)
    assert token == _sha(data)
    staged = db.session.scalar(sa.select(StagedUpload).where(StagedUpload.token == token))
    assert (staged.filename, staged.sha256, staged.user_id) == (
        "two-servers.csv",
        token,
        user_by_email("oig@test.example").id,
    )
    assert db.session.get(Blob, token).data == data

    other = second_server.test_client()
    login(other, "oig")
    committed = other.post("/import/commit", data={"token": token})
    assert committed.status_code == 302
    assert db.session.scalar(sa.select(Report).where(Report.number == "OIG-99-01")) is not None
    assert db.session.scalar(sa.select(StagedUpload).where(StagedUpload.token == token)) is None
    assert other.post("/import/commit", data={"token": token}).status_code == 409  # used up


def test_a_staged_upload_is_the_users_own(client) -> None:
    login(client, "oig")
    data = _csv(_new_rows())
    _upload(client, data, "mine.csv")
    login(client, "admin")
    response = client.post("/import/commit", data={"token": _sha(data)})
    assert response.status_code == 409
    assert (
        "That upload is no longer waiting (it was imported, or its dry run expired); upload the file again."
        in (response.get_data(as_text=True))
    )


# --- garbage collection ------------------------------------------------------------------


def _oig_id() -> int:
    return user_by_email("oig@test.example").id


@pytest.mark.parametrize("backend", ["database", "filesystem"])
def test_garbage_collection_removes_unreferenced_blobs_and_keeps_referenced_ones(
    backend: str, tmp_path: Path
) -> None:
    store = blob_store({"STORAGE_BACKEND": backend, "ATTACHMENT_DIR": str(tmp_path)})
    target = rec("OIG-12-15", 1)
    document = store.put(db.session, b"a document\n")
    db.session.add(
        Attachment(
            recommendation_id=target.id,
            sha256=document,
            size_bytes=11,
            content_type="text/plain",
            original_name="a.txt",
        )
    )
    staged = Staging(db.session, store, _oig_id()).put(b"report_number\nOIG-1\n", "staged.csv")
    orphan = store.put(db.session, b"nothing refers to me\n")
    db.session.commit()
    now = utcnow()

    assert collect_garbage(db.session, store, now=now) == 0  # stored just now: a writer may need it
    assert collect_garbage(db.session, store, now=now + timedelta(minutes=59)) == 0
    assert collect_garbage(db.session, store, now=now + timedelta(minutes=61)) == 1
    assert store.get(db.session, orphan) is None
    assert store.get(db.session, document) == b"a document\n"
    assert store.get(db.session, staged) == b"report_number\nOIG-1\n"

    # The staged upload waits a day; after that it goes, then its bytes.
    assert collect_garbage(db.session, store, now=now + timedelta(hours=23, minutes=59)) == 0
    assert collect_garbage(db.session, store, now=now + timedelta(days=1, minutes=1)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StagedUpload)) == 0
    assert store.get(db.session, staged) is None
    assert store.get(db.session, document) == b"a document\n"
    if backend == "filesystem":
        assert _files(tmp_path) == [f"{document[:2]}/{document}"]
    else:
        assert list(db.session.scalars(sa.select(Blob.sha256))) == [document]


def test_storing_again_renews_a_blob_so_a_collection_keeps_it() -> None:
    store = DatabaseBlobStore()
    sha = store.put(db.session, b"old bytes\n")
    db.session.execute(sa.update(Blob).values(created_at=utcnow() - timedelta(hours=5)))
    assert store.put(db.session, b"old bytes\n") == sha  # another upload of the same file
    assert collect_garbage(db.session, store, now=utcnow() + timedelta(minutes=30)) == 0
    assert store.get(db.session, sha) == b"old bytes\n"


def test_another_feature_can_register_a_column_that_keeps_blobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.storage.REFERENCES", list(REFERENCES))
    import app.storage as storage

    store = DatabaseBlobStore()
    sha = store.put(db.session, b"kept by a user's name\n")
    db.session.execute(sa.update(Blob).values(created_at=utcnow() - timedelta(hours=5)))
    # Any string column works; the users' e-mail column stands in for a feature's own.
    target = user_by_email("oig@test.example")
    target.email = sha
    db.session.flush()
    register_reference(User.email)
    register_reference(User.email)  # once is enough
    assert storage.REFERENCES.count(User.email) == 1
    assert collect_garbage(db.session, store) == 0
    assert store.get(db.session, sha) == b"kept by a user's name\n"


def test_storage_gc_command(app: Flask) -> None:
    db.session.add(
        Blob(sha256=_sha(b"old\n"), size_bytes=4, data=b"old\n", created_at=utcnow() - timedelta(hours=2))
    )
    DatabaseBlobStore().put(db.session, b"new\n")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["storage", "gc"])
    assert result.exit_code == 0, result.output
    assert result.output == "Removed 1 stored file nothing refers to.\n"
    assert list(db.session.scalars(sa.select(Blob.sha256))) == [_sha(b"new\n")]
