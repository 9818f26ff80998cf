"""The dates the deadline policy counts from, kept on each addressee.

Revision ID: 0011_deadline_policy
Revises: 0010_search_acronyms
Create Date: 2026-12-01

`response_due_on`: when the OIG returned a component's response or reopened the
recommendation, the day the new response is due (NULL: 90 days after the issue date).
`closure_state_on`: the day closure was last requested or the request returned (the
update clock pauses while requested and restarts on a return).

Existing rows get them from the history, as replay() does: the latest return of the
component's response or reopening of the recommendation, whichever came last (the due
date kept in the event, else 30 days after a return or 90 after a reopening), and the
latest closure request or return.
"""

import json
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0011_deadline_policy"
down_revision = "0010_search_acronyms"
branch_labels = None
depends_on = None

REVISED_RESPONSE_DAYS = 30  # the setting's default
REOPENED_RESPONSE_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("addressees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_due_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("closure_state_on", sa.Date(), nullable=True))
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("addressees", schema=None) as batch_op:
        batch_op.drop_column("closure_state_on")
        batch_op.drop_column("response_due_on")


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _backfill() -> None:
    conn = op.get_bind()
    addressees = conn.execute(sa.text("SELECT id, recommendation_id FROM addressees")).all()
    events = conn.execute(
        sa.text(
            "SELECT id, recommendation_id, addressee_id, kind, effective_on, details "
            "FROM recommendation_events "
            "WHERE kind IN ('response_returned', 'reopened', 'closure_requested', 'closure_returned') "
            "ORDER BY effective_on, id"
        )
    ).all()
    due: dict[int, date] = {}
    closure: dict[int, date] = {}
    by_rec: dict[int, list[int]] = {}
    for addressee_id, rec_id in addressees:
        by_rec.setdefault(rec_id, []).append(addressee_id)
    for _id, rec_id, addressee_id, kind, effective_on, details in events:
        if isinstance(details, str):  # JSON text on SQLite, decoded JSONB on PostgreSQL
            details = json.loads(details)
        day = _day(effective_on)
        if kind in ("closure_requested", "closure_returned"):
            if addressee_id is not None:
                closure[addressee_id] = day
            continue
        kept = (details or {}).get("revised_response_due")
        if kind == "reopened":
            new_due = _day(kept) if kept else day + timedelta(days=REOPENED_RESPONSE_DAYS)
            for member in by_rec.get(rec_id, []):
                due[member] = new_due
        elif addressee_id is not None:
            due[addressee_id] = _day(kept) if kept else day + timedelta(days=REVISED_RESPONSE_DAYS)
    for addressee_id, _rec_id in addressees:
        if addressee_id in due or addressee_id in closure:
            conn.execute(
                sa.text(
                    "UPDATE addressees SET response_due_on = :due, closure_state_on = :closure WHERE id = :id"
                ),
                {"due": due.get(addressee_id), "closure": closure.get(addressee_id), "id": addressee_id},
            )
