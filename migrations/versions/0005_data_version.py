"""A data-version counter for caches of derived data.

Revision ID: 0005_data_version
Revises: 0004_closed_on_index
Create Date: 2026-11-22

One row; every writing transaction increments it (app/audit.py), so a cached dashboard
or PDF keyed on it is never served after the data it came from changed.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_data_version"
down_revision = "0004_closed_on_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "data_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_versions")),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("data_versions")
