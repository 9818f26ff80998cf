"""A report's issue date may be not known.

Revision ID: 0017_issue_date_not_known
Revises: 0016_tracked_clocks
Create Date: 2026-12-01

`reports.issued_on` becomes nullable: NULL when no source gives the issue date or even its
fiscal year (one of the 68 real reports). Clocks counted from it are "not known".

The downgrade cannot give such a report a date without inventing one, so it refuses,
naming the reports, while any issue date is NULL; enter their dates (or delete the
reports) first.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_issue_date_not_known"
down_revision = "0016_tracked_clocks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("issued_on", existing_type=sa.Date(), nullable=True)


def downgrade() -> None:
    undated = op.get_bind().execute(sa.text("SELECT id, title FROM reports WHERE issued_on IS NULL")).all()
    if undated:
        names = "; ".join(f"#{row.id} {row.title}" for row in undated)
        raise RuntimeError(
            f"Cannot downgrade below 0017: {len(undated)} report(s) have no known issue date and the "
            f"older schema requires one ({names}). Enter their issue dates or delete them first."
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("issued_on", existing_type=sa.Date(), nullable=False)
