"""Supporting documents: type checked from the content, stored under a content hash
(app/storage.py, never under static/), original name kept only as sanitized metadata."""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Addressee, Attachment, Recommendation, RecommendationEvent, User
from app.service_errors import ServiceError
from app.storage import STORE_ERRORS, BlobStore

log = logging.getLogger(__name__)

NOT_STORED = (
    "The file could not be stored; nothing was saved. Try again (choose the file again: "
    "the browser does not keep it); if it fails again, tell the RecTrack administrators."
)

KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    # kind: (content type, file name endings people use for it)
    "pdf": ("application/pdf", (".pdf",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "txt": ("text/plain", (".txt",)),
    "csv": ("text/csv", (".csv",)),
}
ACCEPTED_ENDINGS = ", ".join(e for _, endings in KINDS.values() for e in endings)


class AttachmentError(ServiceError):
    """A file RecTrack will not keep, with the reason in words (shown by the upload field)."""

    field = "documents"


@dataclass(frozen=True)
class Upload:
    """A file as received: its name as given and its bytes."""

    filename: str
    data: bytes


def sanitize_name(name: str) -> str:
    """A display name safe to keep: no path, no control characters, at most 200 long."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:190] + dot + ext[:9]) if dot else name[:200]
    return name or "attachment"


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data[:65536]:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(data: bytes) -> set[str]:
    """The kinds this content can be. Text is both txt and csv; the name decides."""
    if data.startswith(b"%PDF-"):
        return {"pdf"}
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return {"png"}
    if data.startswith(b"\xff\xd8\xff"):
        return {"jpeg"}
    if data.startswith(b"PK\x03\x04"):
        kind = _zip_kind(data)
        return {kind} if kind else set()
    if data and _is_text(data):
        return {"txt", "csv"}
    return set()


def classify(upload: Upload, max_bytes: int) -> tuple[str, str]:
    """(kind, content type) of an acceptable upload, or AttachmentError saying why not."""
    name = sanitize_name(upload.filename)
    if len(upload.data) > max_bytes:
        raise AttachmentError(f"{name} is larger than {max_bytes // (1024 * 1024)} MB.")
    if not upload.data:
        raise AttachmentError(f"{name} is empty.")
    by_name = [k for k, (_, endings) in KINDS.items() if name.lower().endswith(endings)]
    if not by_name:
        raise AttachmentError(f"{name}: RecTrack accepts {ACCEPTED_ENDINGS} files.")
    by_content = sniff(upload.data)
    kind = next((k for k in by_name if k in by_content), None)
    if kind is None:
        raise AttachmentError(
            f"{name} does not contain what its name says ({by_name[0].upper()}); it was not accepted."
        )
    return kind, KINDS[kind][0]


def attach(
    session: Session,
    storage: BlobStore,
    uploads: list[Upload],
    *,
    rec: Recommendation,
    addressee: Addressee | None,
    event: RecommendationEvent | None,
    user: User,
    max_bytes: int,
) -> list[Attachment]:
    """Check every upload first, then store them all: one bad file keeps all out. A store
    that fails is an AttachmentError too (logged): the caller rolls back, so nothing of
    the change is half-saved, and the form shows again with what was typed."""
    checked = [(upload, *classify(upload, max_bytes)) for upload in uploads]
    out = []
    for upload, _kind, content_type in checked:
        try:
            sha256 = storage.put(session, upload.data)
        except STORE_ERRORS as exc:
            log.error(
                "attachment not stored (%s): recommendation %s, user %s, %s bytes",
                type(exc).__name__,
                rec.id,
                user.id,
                len(upload.data),
            )
            raise AttachmentError(NOT_STORED) from exc
        attachment = Attachment(
            recommendation=rec,
            addressee=addressee,
            component_id=addressee.component_id if addressee is not None else None,
            event=event,
            sha256=sha256,
            size_bytes=len(upload.data),
            content_type=content_type,
            original_name=sanitize_name(upload.filename),
            uploaded_by_id=user.id,
        )
        session.add(attachment)
        out.append(attachment)
    return out
