"""State periods: each recommendation's and each addressee's state over runs of days,
rebuilt from the history, so lists as of a past date are SQL.

Revision ID: 0015_state_periods
Revises: 0014_priority_repeat
Create Date: 2026-12-01

Existing recommendations get their periods by replaying their histories
(app.lifecycle.periods.rebuild_all, the same code the app runs on every write, and
`flask --app app deadlines recompute`), with the due dates of each period computed by
the registry's functions (app.lifecycle.deadlines) on the replayed state.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_state_periods"
down_revision = "0014_priority_repeat"
branch_labels = None
depends_on = None

REC_STATUS = ("open_unresolved", "open_resolved", "closed_implemented", "closed_not_implemented")
CONCURRENCE = ("pending", "concur", "partially_concur", "non_concur")
RESPONSE_STATE = ("none", "submitted", "accepted", "returned")
CLOSURE_STATE = ("none", "requested", "returned", "accepted")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "recommendation_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", _enum("rec_status", REC_STATUS), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("resolution_due", sa.Date(), nullable=True),
        sa.Column("gao_ig_act_from", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_recommendation_periods_timeline",
        "recommendation_periods",
        ["recommendation_id", "valid_from", "valid_until", "status"],
    )
    op.create_table(
        "addressee_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("addressee_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("concurrence", _enum("concurrence", CONCURRENCE), nullable=False),
        sa.Column("response", sa.Text(), server_default="", nullable=False),
        sa.Column("response_date", sa.Date(), nullable=True),
        sa.Column("response_state", _enum("response_state", RESPONSE_STATE), nullable=False),
        sa.Column("corrective_action_plan", sa.Text(), server_default="", nullable=False),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("responsible_official", sa.String(length=200), server_default="", nullable=False),
        sa.Column("last_update_on", sa.Date(), nullable=True),
        sa.Column("response_due_on", sa.Date(), nullable=True),
        sa.Column("closure_state", _enum("closure_state", CLOSURE_STATE), nullable=False),
        sa.Column("closure_state_on", sa.Date(), nullable=True),
        sa.Column("response_due", sa.Date(), nullable=True),
        sa.Column("update_due", sa.Date(), nullable=True),
        sa.Column("target_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["addressee_id"], ["addressees.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["component_id"], ["components.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_addressee_periods_timeline",
        "addressee_periods",
        [
            "recommendation_id",
            "valid_from",
            "valid_until",
            "response_due",
            "update_due",
            "target_due",
            "component_id",
        ],
    )
    op.create_index("ix_addressee_periods_addressee", "addressee_periods", ["addressee_id"])
    from flask import current_app, has_app_context

    from app.lifecycle.deadlines import DeadlinePolicy
    from app.lifecycle.periods import rebuild_all

    policy = DeadlinePolicy.from_config(current_app.config) if has_app_context() else DeadlinePolicy()
    rebuild_all(op.get_bind(), policy)


def downgrade() -> None:
    op.drop_index("ix_addressee_periods_addressee", table_name="addressee_periods")
    op.drop_index("ix_addressee_periods_timeline", table_name="addressee_periods")
    op.drop_table("addressee_periods")
    op.drop_index("ix_recommendation_periods_timeline", table_name="recommendation_periods")
    op.drop_table("recommendation_periods")
