"""Covering indexes for the dashboard's counts (issue 18: the first view after a write).

Revision ID: 0032_cold_paths
Revises: 0028_sessions
Create Date: 2026-12-02

The dashboard is recomputed after every write. These let its counts read indexes only:
the closings of the last two periods (status, closed_on), the open recommendations'
ages, money, flags and resolution clock (status and the columns those read), and each
late addressee clock's recommendations (the due date and the recommendation).
"""

from alembic import op

revision = "0032_cold_paths"
down_revision = "0028_sessions"
branch_labels = None
depends_on = None

REC_COUNTS = (
    "status",
    "report_id",
    "sensitivity",
    "priority",
    "tracked_since",
    "resolution_due",
    "questioned_costs",
    "funds_put_to_better_use",
)
ADDRESSEE_DUE = ("response_due", "update_due", "target_due")


def upgrade() -> None:
    op.create_index("ix_recommendations_status_closed_on", "recommendations", ["status", "closed_on"])
    op.create_index("ix_recommendations_status_counts", "recommendations", list(REC_COUNTS))
    for column in ADDRESSEE_DUE:
        op.create_index(f"ix_addressees_{column}_rec", "addressees", [column, "recommendation_id"])


def downgrade() -> None:
    for column in ADDRESSEE_DUE:
        op.drop_index(f"ix_addressees_{column}_rec", table_name="addressees")
    op.drop_index("ix_recommendations_status_counts", table_name="recommendations")
    op.drop_index("ix_recommendations_status_closed_on", table_name="recommendations")
