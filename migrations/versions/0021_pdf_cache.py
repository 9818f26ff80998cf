"""The shared PDF cache.

Revision ID: 0021_pdf_cache
Revises: 0020_jobs
Create Date: 2026-12-01

`pdf_cache`: a rendered status PDF (a blob, by sha256) under its cache key, shared by
every app server and worker (it replaces the per-machine files under PDF_CACHE_DIR).
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_pdf_cache"
down_revision = "0020_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pdf_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pdf_cache")),
    )
    with op.batch_alter_table("pdf_cache", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pdf_cache_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_pdf_cache_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pdf_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pdf_cache_expires_at"))
        batch_op.drop_index(batch_op.f("ix_pdf_cache_sha256"))
    op.drop_table("pdf_cache")
