"""Full-text search documents.

Revision ID: 0003_search
Revises: 0002_lifecycle
Create Date: 2026-11-22

One document per report and per recommendation (with its components' responses, plans
and updates). SQLite indexes them with an FTS5 table kept by triggers; PostgreSQL with a
generated, weighted tsvector column and a GIN index. The documents of existing data are
built here, so the index is complete from the first search.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0003_search"
down_revision = "0002_lifecycle"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5("
    "title, body, content='search_documents', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
POSTGRES_TSV = [
    "ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING GIN (tsv)",
]


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('report', 'recommendation')", name=op.f("ck_search_documents_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_search_documents_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "ref_id", name=op.f("uq_search_documents_kind_ref_id")),
    )
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_search_documents_report_id"), ["report_id"], unique=False)
    for statement in SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TSV:
        op.execute(statement)
    _backfill()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("search_documents_ai", "search_documents_ad", "search_documents_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_documents_tsv")
    with op.batch_alter_table("search_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_documents_report_id"))
    op.drop_table("search_documents")


def _backfill() -> None:
    """The same documents the app writes (app.search.index), built here from the tables
    as they are at this revision."""
    conn = op.get_bind()
    docs = sa.table(
        "search_documents",
        sa.column("kind", sa.String),
        sa.column("ref_id", sa.Integer),
        sa.column("report_id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("body", sa.Text),
    )
    rows = [
        {
            "kind": "report",
            "ref_id": rid,
            "report_id": rid,
            "title": f"{number or ''} {title}".strip(),
            "body": "\n".join(t for t in (summary, concurrence) if t),
        }
        for rid, number, title, summary, concurrence in conn.execute(
            sa.text("SELECT id, number, title, summary, concurrence_summary FROM reports ORDER BY id")
        )
    ]
    extra: dict[int, list[str]] = defaultdict(list)
    for rec_id, abbreviation, *texts in conn.execute(
        sa.text(
            "SELECT a.recommendation_id, c.abbreviation, a.response, a.corrective_action_plan, "
            "a.closure_justification FROM addressees a JOIN components c ON c.id = a.component_id ORDER BY a.id"
        )
    ):
        extra[rec_id].append(abbreviation)
        extra[rec_id].extend(t for t in texts if t)
    for rec_id, note in conn.execute(
        sa.text(
            "SELECT recommendation_id, note FROM recommendation_events "
            "WHERE kind IN ('update_posted', 'closure_requested') AND note <> '' ORDER BY id"
        )
    ):
        extra[rec_id].append(note)
    rows += [
        {
            "kind": "recommendation",
            "ref_id": rec_id,
            "report_id": report_id,
            "title": f"{report_number or ''} recommendation {number}: {report_title}".strip(),
            "body": "\n".join([text, *extra.get(rec_id, [])]),
        }
        for rec_id, report_id, number, text, report_number, report_title in conn.execute(
            sa.text(
                "SELECT r.id, r.report_id, r.number, r.text, p.number, p.title "
                "FROM recommendations r JOIN reports p ON p.id = r.report_id ORDER BY r.id"
            )
        )
    ]
    if rows:
        op.bulk_insert(docs, rows)
