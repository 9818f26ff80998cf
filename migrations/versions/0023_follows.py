"""Followers: a user follows a report or a component.

Revision ID: 0023_follows
Revises: 0022_mail
Create Date: 2026-12-01

`follows`: one row per user and followed report or component (exactly one of the two).
`mail_preferences.follow_summary`: whether the weekly summary of what one follows is sent.
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_follows"
down_revision = "0022_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("component_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(report_id IS NULL) <> (component_id IS NULL)", name=op.f("ck_follows_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_follows_report_id_reports"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_follows_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "report_id", name="uq_follows_user_report"),
        sa.UniqueConstraint("user_id", "component_id", name="uq_follows_user_component"),
    )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follows_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_report_id"), ["report_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follows_component_id"), ["component_id"], unique=False)
    with op.batch_alter_table("mail_preferences", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("follow_summary", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_preferences", schema=None) as batch_op:
        batch_op.drop_column("follow_summary")
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follows_component_id"))
        batch_op.drop_index(batch_op.f("ix_follows_report_id"))
        batch_op.drop_index(batch_op.f("ix_follows_user_id"))
    op.drop_table("follows")
