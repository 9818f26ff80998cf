"""A recommendation's number may be not known.

Revision ID: 0018_rec_number_not_known
Revises: 0017_issue_date_not_known
Create Date: 2026-12-01

`recommendations.number` becomes nullable: NULL when no source read gives the number
printed in the report (two of the 74 real recommendations). The check keeps a known
number positive; the unique (report_id, number) pair lets any number of NULLs through
on both databases.

The downgrade cannot number such a recommendation without inventing a number, so it
refuses, naming them, while any number is NULL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_rec_number_not_known"
down_revision = "0017_issue_date_not_known"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_recommendations_number_positive"), type_="check")
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f("ck_recommendations_number_positive"), "number IS NULL OR number > 0"
        )


def downgrade() -> None:
    unnumbered = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT recommendations.id, COALESCE(reports.number, reports.title) AS report "
                "FROM recommendations JOIN reports ON reports.id = recommendations.report_id "
                "WHERE recommendations.number IS NULL"
            )
        )
        .all()
    )
    if unnumbered:
        names = "; ".join(f"#{row.id} of {row.report}" for row in unnumbered)
        raise RuntimeError(
            f"Cannot downgrade below 0018: {len(unnumbered)} recommendation(s) have no known number and "
            f"the older schema requires one ({names}). Enter their numbers or delete them first."
        )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_recommendations_number_positive"), type_="check")
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_check_constraint(batch_op.f("ck_recommendations_number_positive"), "number > 0")
