"""The real record: issue dates as precise as the source, tracking dates, listing facts.

Revision ID: 0013_real_record
Revises: 0012_stored_due_dates
Create Date: 2026-12-01

reports.issued_precision: day, month or fiscal_year (existing rows: day); issued_on holds
the last day of the month or fiscal year when only that is known.
reports.issued_source: where the issue date was read.
reports.report_type: four more types the DHS OIG uses (management advisory, verification
review, special report, investigation).
recommendations.tracked_since: the day RecTrack began tracking it (existing rows: the day
they were created in RecTrack).
recommendations.source_url, listed_status, listed_in, listed_read_on: where the text was
read, and what status an outside source listed and when that page was read.

Downgrading drops these facts: a month or fiscal-year date stays as its last day (then
read as a day), the four newer report types become "other". Running `flask --app app
seed` after upgrading again restores what the seed file says.
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0013_real_record"
down_revision = "0012_stored_due_dates"
branch_labels = None
depends_on = None

OLD_TYPES = ("audit", "inspection", "evaluation", "review", "management_alert", "other")
NEW_TYPES = (  # as ReportType lists them
    "audit",
    "inspection",
    "evaluation",
    "review",
    "management_alert",
    "management_advisory",
    "verification_review",
    "special_report",
    "investigation",
    "other",
)


def _in_list(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "issued_precision",
                sa.Enum(
                    "day",
                    "month",
                    "fiscal_year",
                    name="issue_precision",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="day",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("issued_source", sa.Text(), server_default="", nullable=False))
        batch_op.drop_constraint(batch_op.f("ck_reports_report_type"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_reports_report_type"), _in_list("report_type", NEW_TYPES)
        )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracked_since", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("source_url", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column(
                "listed_status",
                sa.Enum(
                    "open",
                    "closed",
                    "open_unresolved",
                    "open_resolved",
                    name="listed_status",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("listed_in", sa.String(length=200), server_default="", nullable=False))
        batch_op.add_column(sa.Column("listed_read_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    update = sa.text("UPDATE recommendations SET tracked_since = :day WHERE id = :id").bindparams(
        sa.bindparam("day", type_=sa.Date())
    )
    for rec_id, created_at in conn.execute(sa.text("SELECT id, created_at FROM recommendations")).all():
        # a datetime (PostgreSQL) or its ISO text (SQLite); the UTC day it was created
        conn.execute(update, {"day": date.fromisoformat(str(created_at)[:10]), "id": rec_id})
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.alter_column("tracked_since", existing_type=sa.Date(), nullable=False)


def downgrade() -> None:
    conn = op.get_bind()
    # the older CHECK list has no room for the four newer types: they become "other"
    reports = sa.table("reports", sa.column("report_type", sa.String))
    conn.execute(
        sa.update(reports)
        .where(reports.c.report_type.is_not(None), reports.c.report_type.not_in(OLD_TYPES))
        .values(report_type="other")
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_column("listed_read_on")
        batch_op.drop_column("listed_in")
        batch_op.drop_constraint(batch_op.f("ck_recommendations_listed_status"), type_="check")
        batch_op.drop_column("listed_status")
        batch_op.drop_column("source_url")
        batch_op.drop_column("tracked_since")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_reports_report_type"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_reports_report_type"), _in_list("report_type", OLD_TYPES)
        )
        batch_op.drop_column("issued_source")
        batch_op.drop_constraint(batch_op.f("ck_reports_issue_precision"), type_="check")
        batch_op.drop_column("issued_precision")
