"""Version counters for optimistic locking on reports, components and accounts.

Revision ID: 0008_edit_versions
Revises: 0007_audit_access
Create Date: 2026-11-23

Recommendations and addressees have had one since 0002; every record people edit
through a form now has one (app/locking.py). Existing rows start at 1.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_edit_versions"
down_revision = "0007_audit_access"
branch_labels = None
depends_on = None

TABLES = ("reports", "components", "users")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
