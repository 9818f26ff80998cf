"""Sign-in throttling no longer locks accounts: drop users.locked_until.

Revision ID: 0006_login_throttle
Revises: 0005_data_version
Create Date: 2026-11-23

Failed sign-ins now slow their source (app/auth/throttle.py) instead of locking the
account for everyone; users.failed_login_count stays, as the run of failures in a row.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_login_throttle"
down_revision = "0005_data_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a batch operation: SQLite (3.35 and later) drops a plain column in place, where
    # a batch would copy the users table under the foreign keys that point at it.
    op.drop_column("users", "locked_until")


def downgrade() -> None:
    op.add_column("users", sa.Column("locked_until", sa.DateTime(), nullable=True))
