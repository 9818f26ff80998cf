"""Open data: the newest bulk file of public recommendations in each format.

Revision ID: 0025_open_data
Revises: 0024_api_tokens
Create Date: 2026-12-01

`open_data_files`: one row per published file (recommendations.csv, recommendations.json),
naming its bytes in the blob store by SHA-256, with the day it was built and its counts.
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_open_data"
down_revision = "0024_api_tokens"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open_data_files",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("content_type", sa.String(length=80), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "rows >= 0 AND withheld >= 0", name=op.f("ck_open_data_files_counts_not_negative")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_open_data_files_size_not_negative")),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_open_data_files")),
    )
    with op.batch_alter_table("open_data_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_data_files_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("open_data_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_data_files_sha256"))
    op.drop_table("open_data_files")
