"""Deadlines that fell before RecTrack began tracking a recommendation do not run.

Revision ID: 0016_tracked_clocks
Revises: 0015_state_periods
Create Date: 2026-12-01

No schema change: the stored due dates (recommendations.resolution_due, addressees.
response_due, update_due, target_due) are recomputed by the registry's rule on
recommendations.tracked_since (app.lifecycle.deadlines: a response, resolution or target
date before tracked_since is NULL; an update due before it is due one update interval
after it), with the same code that keeps them fresh afterwards
(app.lifecycle.due_dates.refresh), and the state periods, which carry the same due dates
for each run of days, are rebuilt (app.lifecycle.periods.rebuild_all). Downgrading
recomputes both as before (from issuance).

recommendations.significant becomes nullable: NULL is "not listed" (a source that does not
say), never an invented "no". Existing rows keep their value (`flask --app app seed`
afterwards sets the real record's unlisted ones to NULL); downgrading turns NULL into
false.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_tracked_clocks"
down_revision = "0015_state_periods"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.alter_column(
            "significant",
            existing_type=sa.Boolean(),
            existing_server_default=sa.false(),
            server_default=None,
            nullable=True,
        )
    _recompute(with_tracked_since=True)


def downgrade() -> None:
    _recompute(with_tracked_since=False)
    recommendations = sa.table("recommendations", sa.column("significant", sa.Boolean))
    op.get_bind().execute(
        sa.update(recommendations).where(recommendations.c.significant.is_(None)).values(significant=False)
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.alter_column(
            "significant", existing_type=sa.Boolean(), server_default=sa.false(), nullable=False
        )


def _recompute(*, with_tracked_since: bool) -> None:
    from flask import current_app, has_app_context

    from app.lifecycle.deadlines import DeadlinePolicy
    from app.lifecycle.due_dates import refresh
    from app.lifecycle.periods import rebuild_all

    policy = DeadlinePolicy.from_config(current_app.config) if has_app_context() else DeadlinePolicy()
    refresh(op.get_bind(), policy, with_tracked_since=with_tracked_since)
    rebuild_all(op.get_bind(), policy, with_tracked_since=with_tracked_since)
