"""Due dates stored on each recommendation and addressee, indexed.

Revision ID: 0012_stored_due_dates
Revises: 0011_deadline_policy
Create Date: 2026-12-01

Each clock's due date, computed from the row's state by the one definition of the rules
(app.lifecycle.deadlines.rec_due_dates and addressee_due_dates), so list filters, work
queues, the dashboard and PDFs compare a stored date with today:
recommendations.resolution_due and gao_ig_act_from; addressees.response_due, update_due
and target_due. NULL while the clock does not run.

Existing rows are filled by the same code that keeps them fresh afterwards
(app.lifecycle.due_dates.refresh, as `flask --app app deadlines recompute` runs it), with
the update interval of the app's configuration.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_stored_due_dates"
down_revision = "0011_deadline_policy"
branch_labels = None
depends_on = None

REC_COLUMNS = ("resolution_due", "gao_ig_act_from")
ADDRESSEE_COLUMNS = ("response_due", "update_due", "target_due")


def upgrade() -> None:
    for table, columns in (("recommendations", REC_COLUMNS), ("addressees", ADDRESSEE_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in columns:
                batch_op.add_column(sa.Column(name, sa.Date(), nullable=True))
                batch_op.create_index(batch_op.f(f"ix_{table}_{name}"), [name], unique=False)
    _fill()


def downgrade() -> None:
    for table, columns in (("addressees", ADDRESSEE_COLUMNS), ("recommendations", REC_COLUMNS)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(columns):
                batch_op.drop_index(batch_op.f(f"ix_{table}_{name}"))
                batch_op.drop_column(name)


def _fill() -> None:
    from flask import current_app, has_app_context

    from app.lifecycle.deadlines import DeadlinePolicy
    from app.lifecycle.due_dates import refresh

    policy = DeadlinePolicy.from_config(current_app.config) if has_app_context() else DeadlinePolicy()
    # this schema has no recommendations.tracked_since yet (0013 adds it; 0014 recomputes)
    refresh(op.get_bind(), policy, with_tracked_since=False)
