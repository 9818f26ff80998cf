"""Index recommendations by closing date.

Revision ID: 0004_closed_on_index
Revises: 0003_search
Create Date: 2026-11-22

The dashboard counts closures in the current and last semiannual periods with a range
on closed_on; without the index that read every recommendation.
"""

from alembic import op

revision = "0004_closed_on_index"
down_revision = "0003_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendations_closed_on"), ["closed_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_closed_on"))
