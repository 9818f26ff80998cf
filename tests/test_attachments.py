"""Supporting documents: checked by content, stored by hash outside static/, served
only to those who may see them."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from app import clock
from app.audit import AuditActor
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.attachments import AttachmentError, Upload, classify, sanitize_name
from app.models import Attachment, Blob, Component, Concurrence, RecommendationEvent, Sensitivity
from app.recommendations import services as rec_services
from app.storage import DatabaseBlobStore
from tests.conftest import EMAILS, login, rec, report_by_number, submit, user_by_email, visible_text

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _office(kind: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml" if kind == "docx" else "xl/workbook.xml", "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("plan.pdf", PDF, "application/pdf"),
        ("chart.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("photo.jpeg", JPEG, "image/jpeg"),
        (
            "memo.docx",
            _office("docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "tracker.xlsx",
            _office("xlsx"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("notes.txt", "Progress notes — FEMA".encode(), "text/plain"),
        ("survey.csv", b"eoc,applies\nA,yes\n", "text/csv"),
    ],
)
def test_accepted_types_are_recognised_by_content(name: str, data: bytes, content_type: str) -> None:
    assert classify(Upload(name, data), 1024 * 1024)[1] == content_type


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plan.pdf", b"MZ\x90\x00 this is a Windows program", "does not contain what its name says"),
        ("chart.png", PDF, "does not contain what its name says"),
        ("memo.docx", _office("xlsx"), "does not contain what its name says"),
        ("memo.docx", b"PK\x03\x04 not really a zip", "does not contain what its name says"),
        ("notes.txt", b"\x00\x01\x02binary", "does not contain what its name says"),
        ("script.exe", b"MZ\x90\x00", "RecTrack accepts"),
        ("page.html", b"<html><script>alert(1)</script></html>", "RecTrack accepts"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_other_content_is_refused(name: str, data: bytes, message: str) -> None:
    with pytest.raises(AttachmentError, match=message):
        classify(Upload(name, data), 1024 * 1024)


def test_size_limit() -> None:
    with pytest.raises(AttachmentError, match="larger than 1 MB"):
        classify(Upload("big.txt", b"a" * (1024 * 1024 + 1)), 1024 * 1024)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\x\\report final.pdf", "report final.pdf"),
        ("bad\x00name\r\n.pdf", "badname.pdf"),
        ("   ", "attachment"),
        ("a" * 300 + ".pdf", "a" * 190 + ".pdf"),
    ],
)
def test_names_are_sanitized(given: str, kept: str) -> None:
    assert sanitize_name(given) == kept


def _respond_with(client, files: list[tuple[bytes, str]]):
    cpg = rec("OIG-12-15", 3)
    fema = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    data = {
        "concurrence": "concur",
        "response": "FEMA concurs.",
        "corrective_action_plan": "Plan.",
        "target_date": (clock.today() + timedelta(days=90)).isoformat(),
        "responsible_official": "Director",
        "documents": [(io.BytesIO(content), name) for content, name in files],
    }
    return submit(
        client,
        f"/recommendations/{cpg.id}/components/{fema.id}/respond",
        data=data,
        content_type="multipart/form-data",
    )


def test_upload_is_stored_by_hash_in_the_database_and_downloaded_as_attachment(app: Flask, client) -> None:
    login(client, "fema")
    assert _respond_with(client, [(PDF, "../FEMA plan.pdf")]).status_code == 302
    attachment = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    digest = hashlib.sha256(PDF).hexdigest()
    assert attachment.sha256 == digest
    assert attachment.original_name == "FEMA plan.pdf"
    blob = db.session.get(Blob, digest)
    assert (blob.data, blob.size_bytes) == (PDF, len(PDF))
    assert not (Path(app.config["ATTACHMENT_DIR"]) / digest[:2] / digest).exists()  # not on disk
    event = db.session.get(RecommendationEvent, attachment.event_id)
    assert event is not None

    response = client.get(f"/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert (
        "FEMA%20plan.pdf" in response.headers["Content-Disposition"]
        or "FEMA plan.pdf" in response.headers["Content-Disposition"]
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_one_bad_file_keeps_everything_out(app: Flask, client) -> None:
    login(client, "fema")
    before = db.session.scalar(sa.select(sa.func.count(Attachment.id)))
    events_before = db.session.scalar(sa.select(sa.func.count(RecommendationEvent.id)))
    good = PDF + b"% only in this test\n"
    response = _respond_with(client, [(good, "ok.pdf"), (b"MZ\x90", "virus.pdf")])
    assert response.status_code == 200
    assert "virus.pdf does not contain what its name says" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Attachment.id))) == before
    assert db.session.scalar(sa.select(sa.func.count(RecommendationEvent.id))) == events_before
    digest = hashlib.sha256(good).hexdigest()
    assert db.session.get(Blob, digest) is None


def test_request_over_the_limit_gets_the_413_page(app: Flask, client) -> None:
    login(client, "fema")
    original = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    try:
        response = _respond_with(client, [(b"%PDF-" + b"0" * (128 * 1024), "big.pdf")])
    finally:
        app.config["MAX_CONTENT_LENGTH"] = original
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_file_over_the_attachment_limit_is_refused_next_to_the_field(app: Flask, client) -> None:
    login(client, "fema")
    original = app.config["ATTACHMENT_MAX_BYTES"]
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        response = _respond_with(client, [(b"%PDF-" + b"0" * 4096, "big.pdf")])
    finally:
        app.config["ATTACHMENT_MAX_BYTES"] = original
    assert response.status_code == 200
    assert "big.pdf is larger than" in response.get_data(as_text=True)


def _restricted_with_documents(app: Flask) -> tuple[int, int]:
    """Documents on the synthetic restricted report: one for I&A's recommendation and
    one for FEMA's. Returns (I&A document id, FEMA document id)."""
    ids = []
    for number, role in ((1, "liaison"), (2, "fema")):
        target = rec("TEST-R-1", number)
        client = app.test_client()
        login(client, "oig")
        submit(client, f"/recommendations/{target.id}/resolve", data={})
        login(client, role)
        row = target.addressees[0]
        submit(
            client,
            f"/recommendations/{target.id}/components/{row.id}/update",
            data={
                "text": "progress",
                "documents": (io.BytesIO(f"doc {number}\n".encode()), f"r{number}.txt"),
            },
            content_type="multipart/form-data",
        )
        ids.append(
            db.session.scalar(sa.select(Attachment.id).where(Attachment.recommendation_id == target.id))
        )
    return ids[0], ids[1]


def test_viewer_cannot_download_documents_of_restricted_recommendations(app: Flask, as_role) -> None:
    ia_doc, fema_doc = _restricted_with_documents(app)
    viewer = as_role("viewer")
    assert viewer.get(f"/attachments/{ia_doc}").status_code == 403
    assert viewer.get(f"/attachments/{fema_doc}").status_code == 403


def test_liaison_cannot_download_another_components_restricted_documents(app: Flask, as_role) -> None:
    ia_doc, fema_doc = _restricted_with_documents(app)
    assert as_role("liaison").get(f"/attachments/{ia_doc}").status_code == 200
    assert as_role("liaison").get(f"/attachments/{fema_doc}").status_code == 403
    assert as_role("fema").get(f"/attachments/{fema_doc}").status_code == 200
    assert as_role("oig").get(f"/attachments/{fema_doc}").status_code == 200


def test_public_documents_are_readable_by_viewers(client) -> None:
    login(client, "fema")
    _respond_with(client, [(PDF, "plan.pdf")])
    attachment_id = db.session.scalar(sa.select(Attachment.id).order_by(Attachment.id.desc()))
    login(client, "viewer")
    assert client.get(f"/attachments/{attachment_id}").status_code == 200


# --- a document stays its component's -----------------------------------------------


def _component_ids() -> dict[str, int]:
    return {c.abbreviation: c.id for c in db.session.scalars(sa.select(Component))}


def _set_addressees(abbreviations: tuple[str, ...]) -> None:
    """OIG staff correct TEST-R-1 #3 to be addressed to these components (the first leads)."""
    target = rec("TEST-R-1", 3)
    current = {a.component_id: a for a in target.addressees}
    ids = _component_ids()
    rows = []
    for i, abbr in enumerate(abbreviations):
        row = current.get(ids[abbr])
        rows.append(
            rec_services.AddresseeData(
                ids[abbr],
                is_lead=i == 0,
                concurrence=row.concurrence if row else Concurrence.PENDING,
                version=row.version if row else None,
            )
        )
    data = rec_services.RecommendationData(
        number=target.number,
        text=target.text,
        sensitivity=target.sensitivity,
        addressees=rows,
        version=target.version,
    )
    oig = AuditActor.for_user(user_by_email(EMAILS["oig"]))
    rec_services.update_recommendation(db.session, oig, target, data, today=clock.today())
    db.session.commit()


def _shared_restricted_recommendation_with_documents(app: Flask) -> tuple[int, int, int]:
    """TEST-R-1 #3: restricted, addressed to I&A (no answer yet) and FEMA (concurs);
    OIG staff resolve it and each liaison asks for closure of their part with a document.
    Returns (recommendation id, I&A's document id, FEMA's document id)."""
    ids = _component_ids()
    oig = user_by_email(EMAILS["oig"])
    today = clock.today()
    target = rec_services.create_recommendation(
        db.session,
        AuditActor.for_user(oig),
        report_by_number("TEST-R-1"),
        rec_services.RecommendationData(
            number=3,
            text="SYNTHETIC-RESTRICTED-SHARED text for tests.",
            sensitivity=Sensitivity.RESTRICTED,
            addressees=[
                rec_services.AddresseeData(ids["I&A"], is_lead=True),
                rec_services.AddresseeData(ids["FEMA"], concurrence=Concurrence.CONCUR),
            ],
        ),
        today=today,
    )
    workflow.resolve(db.session, workflow.Context(oig, today), target, "FEMA's plan.", version=target.version)
    storage = DatabaseBlobStore()
    documents = {}
    for role, abbr in (("liaison", "I&A"), ("fema", "FEMA")):
        part = next(a for a in target.addressees if a.component_id == ids[abbr])
        ctx = workflow.Context(
            user_by_email(EMAILS[role]),
            today,
            storage=storage,
            max_attachment_bytes=1024 * 1024,
            uploads=[Upload(f"{abbr} evidence.txt", f"{abbr} evidence (restricted)\n".encode())],
        )
        event = workflow.request_closure(db.session, ctx, target, part, "Done.", version=part.version)
        documents[abbr] = event.attachments[0].id
    db.session.commit()
    return target.id, documents["I&A"], documents["FEMA"]


def test_documents_of_a_removed_component_stay_its_own(app: Flask, as_role) -> None:
    """Once OIG staff remove I&A from a restricted recommendation addressed to I&A and
    FEMA, I&A's document is still I&A's: never FEMA's, never treated as the OIG's own.
    Staff keep it. I&A's liaisons no longer read the recommendation, so they lose its
    documents with it, and get them back if I&A is addressed again."""
    rec_id, ia_doc, fema_doc = _shared_restricted_recommendation_with_documents(app)
    link = f'href="/attachments/{ia_doc}"'
    assert as_role("fema").get(f"/attachments/{ia_doc}").status_code == 403
    assert as_role("liaison").get(f"/attachments/{ia_doc}").status_code == 200

    _set_addressees(("FEMA",))
    row = db.session.get(Attachment, ia_doc)
    assert row.addressee_id is None  # the addressee row is gone...
    assert row.component_id == _component_ids()["I&A"]  # ...the document is still I&A's

    fema = as_role("fema")
    assert fema.get(f"/attachments/{ia_doc}").status_code == 403
    page = fema.get(f"/recommendations/{rec_id}")
    assert page.status_code == 200
    assert link not in page.get_data(as_text=True)  # not in the OIG's section, not in the history
    assert fema.get(f"/attachments/{fema_doc}").status_code == 200
    for staff in ("oig", "admin"):
        client = as_role(staff)
        assert client.get(f"/attachments/{ia_doc}").data == b"I&A evidence (restricted)\n"
        page = client.get(f"/recommendations/{rec_id}")
        assert "Documents of components no longer addressed I&A: I&A evidence.txt" in visible_text(page)
    ia = as_role("liaison")
    assert ia.get(f"/recommendations/{rec_id}").status_code == 403
    assert ia.get(f"/attachments/{ia_doc}").status_code == 403
    assert as_role("viewer").get(f"/attachments/{ia_doc}").status_code == 403

    _set_addressees(("FEMA", "I&A"))
    ia = as_role("liaison")
    assert ia.get(f"/attachments/{ia_doc}").status_code == 200
    page = visible_text(ia.get(f"/recommendations/{rec_id}"))
    assert "no longer addressed" not in page  # back on I&A's own card
    assert "I&A evidence.txt" in page
    assert as_role("fema").get(f"/attachments/{ia_doc}").status_code == 403


def test_an_uploaded_document_records_its_component(client) -> None:
    login(client, "fema")
    assert _respond_with(client, [(PDF, "plan.pdf")]).status_code == 302
    attachment = db.session.scalar(sa.select(Attachment).order_by(Attachment.id.desc()))
    assert attachment.component_id == _component_ids()["FEMA"]
