"""Stored bytes in the database: blobs and staged import uploads.

Revision ID: 0019_blob_storage
Revises: 0018_rec_number_not_known
Create Date: 2026-12-01

`blobs` holds content-addressed bytes (documents, import uploads) so that every app
server reads what another wrote, and a rolled-back upload leaves nothing behind;
`staged_uploads` holds the import files waiting between their dry run and their commit
(they used to be files under IMPORT_STAGING_DIR, which this migration does not carry
over: such an upload is simply sent again).

The upgrade copies every attachment's file found under ATTACHMENT_DIR (the app's
setting, or the environment's when run without the app) into `blobs` (unless
STORAGE_BACKEND is filesystem: the files stay where they are); a missing or
altered file is skipped with a warning. The downgrade writes the blobs attachments
refer to back to files under ATTACHMENT_DIR, then drops both tables.
"""

import hashlib
import logging
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0019_blob_storage"
down_revision = "0018_rec_number_not_known"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

BLOBS = sa.table(
    "blobs",
    sa.column("sha256", sa.String()),
    sa.column("size_bytes", sa.Integer()),
    sa.column("data", sa.LargeBinary()),
    sa.column("created_at", sa.DateTime()),
)


def _attachment_dir() -> Path | None:
    from flask import current_app, has_app_context

    if has_app_context():
        return Path(current_app.config["ATTACHMENT_DIR"])
    configured = os.environ.get("ATTACHMENT_DIR")
    return Path(configured) if configured else None


def _backend() -> str:
    from flask import current_app, has_app_context

    if has_app_context():
        return str(current_app.config.get("STORAGE_BACKEND", "database"))
    return os.environ.get("STORAGE_BACKEND", "database")


def _now():  # naive UTC, as UTCDateTime stores it
    from app.database import utcnow

    return utcnow().replace(tzinfo=None)


def _attachment_hashes(bind: sa.Connection) -> list[str]:
    return list(bind.execute(sa.text("SELECT DISTINCT sha256 FROM attachments ORDER BY sha256")).scalars())


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_blobs_size_not_negative")),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_blobs_sha256_length")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_blobs")),
    )
    op.create_table(
        "staged_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(token) = 64", name=op.f("ck_staged_uploads_token_length")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_staged_uploads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staged_uploads")),
        sa.UniqueConstraint("user_id", "token", name=op.f("uq_staged_uploads_user_id_token")),
    )
    op.create_index(op.f("ix_staged_uploads_sha256"), "staged_uploads", ["sha256"], unique=False)
    op.create_index(op.f("ix_staged_uploads_created_at"), "staged_uploads", ["created_at"], unique=False)
    _copy_files_in()


def _copy_files_in() -> None:
    bind = op.get_bind()
    hashes = _attachment_hashes(bind)
    if not hashes:
        return
    if _backend() == "filesystem":
        log.info("0019_blob_storage: STORAGE_BACKEND is filesystem; the document files stay where they are.")
        return
    root = _attachment_dir()
    if root is None:
        log.warning(
            "0019_blob_storage: ATTACHMENT_DIR is not set; %d document file(s) not copied.", len(hashes)
        )
        return
    now = _now()
    copied = 0
    for sha in hashes:
        path = root / sha[:2] / sha
        try:
            data = path.read_bytes()
        except OSError:
            log.warning("0019_blob_storage: no file %s for a document; skipped.", path)
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            log.warning("0019_blob_storage: %s does not hold the bytes its name says; skipped.", path)
            continue
        bind.execute(BLOBS.insert().values(sha256=sha, size_bytes=len(data), data=data, created_at=now))
        copied += 1
    log.info("0019_blob_storage: copied %d of %d document file(s) from %s.", copied, len(hashes), root)


def _write_files_out() -> None:
    bind = op.get_bind()
    hashes = _attachment_hashes(bind)
    if not hashes:
        return
    root = _attachment_dir()
    if root is None:
        raise RuntimeError(
            "Cannot downgrade below 0019 without ATTACHMENT_DIR: the documents' bytes would be lost. "
            "Set ATTACHMENT_DIR to the directory the older version reads them from."
        )
    for sha in hashes:
        data = bind.execute(sa.select(BLOBS.c.data).where(BLOBS.c.sha256 == sha)).scalar()
        if data is None:
            log.warning("0019_blob_storage: no stored bytes for document %s; no file written.", sha)
            continue
        target = root / sha[:2] / sha
        if target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".downgrade-{sha}")
        partial.write_bytes(data)
        partial.replace(target)


def downgrade() -> None:
    _write_files_out()
    op.drop_index(op.f("ix_staged_uploads_created_at"), table_name="staged_uploads")
    op.drop_index(op.f("ix_staged_uploads_sha256"), table_name="staged_uploads")
    op.drop_table("staged_uploads")
    op.drop_table("blobs")
