"""Priority recommendations and repeat links.

Revision ID: 0014_priority_repeat
Revises: 0013_real_record
Create Date: 2026-12-01

`priority`: a priority recommendation in CIGIE's sense, flagged by OIG staff, with
`priority_reason`, the reason given for the last change of the flag.
`repeats_id`: the earlier recommendation this one repeats or rolls forward (NULL: none),
with an optional `repeat_note`. Deleting the earlier one (entered by mistake) unlinks it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_priority_repeat"
down_revision = "0013_real_record"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("priority_reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("repeats_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("repeat_note", sa.Text(), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_recommendations_priority"), ["priority"], unique=False)
        batch_op.create_index(batch_op.f("ix_recommendations_repeats_id"), ["repeats_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_recommendations_repeats_id_recommendations"),
            "recommendations",
            ["repeats_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_recommendations_not_repeating_itself"), "repeats_id IS NULL OR repeats_id <> id"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_recommendations_priority_has_reason"), "NOT priority OR priority_reason <> ''"
        )


def downgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_recommendations_priority_has_reason"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_recommendations_not_repeating_itself"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_recommendations_repeats_id_recommendations"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_recommendations_repeats_id"))
        batch_op.drop_index(batch_op.f("ix_recommendations_priority"))
        batch_op.drop_column("repeat_note")
        batch_op.drop_column("repeats_id")
        batch_op.drop_column("priority_reason")
        batch_op.drop_column("priority")
