"""The list's default order from an index on PostgreSQL (issue 18: list, API and search at
100,000 recommendations).

Revision ID: 0033_list_order
Revises: 0032_cold_paths
Create Date: 2026-12-02

The list (and the API, the portfolio PDF, exports) orders by reports.issued_on DESC NULLS
LAST, reports.id DESC: a report whose issue date is not known comes after every dated
one (migration 0017). PostgreSQL sorts NULLs first in a descending scan of the plain
issued_on index, so it could not read the first page in order: it joined and sorted every
recommendation instead (96 ms for the first 50 of 100,000, against 0.8 ms with this
index). SQLite sorts NULLs first ascending, so a backward scan of ix_reports_issued_on is
already in this order, and SQLite refuses NULLS LAST in an index: PostgreSQL only, and
left out of the model comparison (app.database.include_in_migrations).
"""

from alembic import op

revision = "0033_list_order"
down_revision = "0032_cold_paths"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_reports_newest ON reports (issued_on DESC NULLS LAST, id DESC)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_reports_newest")
