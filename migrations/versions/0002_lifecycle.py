"""Lifecycle: responses, decisions, history events, attachments, versions.

Revision ID: 0002_lifecycle
Revises: 0001_initial
Create Date: 2026-11-22

Existing recommendations get the start of their history: issued on their report's date
with their current status, and any recorded concurrence.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_lifecycle"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recommendation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("addressee_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "created",
                "concurrence_recorded",
                "response_submitted",
                "response_revised",
                "response_accepted",
                "response_returned",
                "resolved",
                "update_posted",
                "closure_requested",
                "closure_returned",
                "closed",
                "reopened",
                name="event_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column(
            "status_after",
            sa.Enum(
                "open_unresolved",
                "open_resolved",
                "closed_implemented",
                "closed_not_implemented",
                name="rec_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column(
            "concurrence_after",
            sa.Enum(
                "pending",
                "concur",
                "partially_concur",
                "non_concur",
                name="concurrence",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("target_date_after", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("details", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_recommendation_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["addressee_id"],
            ["addressees.id"],
            name=op.f("fk_recommendation_events_addressee_id_addressees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_events_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_events")),
    )
    with op.batch_alter_table("recommendation_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recommendation_events_addressee_id"), ["addressee_id"], unique=False
        )
        batch_op.create_index(
            "ix_recommendation_events_timeline", ["recommendation_id", "effective_on", "id"], unique=False
        )

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("addressee_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_attachments_sha256_length")),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_attachments_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["addressee_id"],
            ["addressees.id"],
            name=op.f("fk_attachments_addressee_id_addressees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["recommendation_events.id"],
            name=op.f("fk_attachments_event_id_recommendation_events"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_attachments_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_addressee_id"), ["addressee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_event_id"), ["event_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachments_recommendation_id"), ["recommendation_id"], unique=False
        )

    with op.batch_alter_table("addressees", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "response_state",
                sa.Enum(
                    "none",
                    "submitted",
                    "accepted",
                    "returned",
                    name="response_state",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="none",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("corrective_action_plan", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("target_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("responsible_official", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("evaluation_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("last_update_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "closure_state",
                sa.Enum(
                    "none",
                    "requested",
                    "returned",
                    "accepted",
                    name="closure_state",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="none",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("closure_justification", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("closure_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(batch_op.f("ix_addressees_closure_state"), ["closure_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_addressees_response_state"), ["response_state"], unique=False)
        batch_op.create_index(batch_op.f("ix_addressees_target_date"), ["target_date"], unique=False)

    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    _backfill_history()


def downgrade() -> None:
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("decision_note")
        batch_op.drop_column("closed_on")
        batch_op.drop_column("resolved_on")

    with op.batch_alter_table("addressees", schema=None) as batch_op:
        # SQLite's table copy would keep these CHECKs on columns that no longer exist
        batch_op.drop_constraint(batch_op.f("ck_addressees_closure_state"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_addressees_response_state"), type_="check")
        batch_op.drop_index(batch_op.f("ix_addressees_target_date"))
        batch_op.drop_index(batch_op.f("ix_addressees_response_state"))
        batch_op.drop_index(batch_op.f("ix_addressees_closure_state"))
        batch_op.drop_column("version")
        batch_op.drop_column("closure_note")
        batch_op.drop_column("closure_justification")
        batch_op.drop_column("closure_state")
        batch_op.drop_column("last_update_on")
        batch_op.drop_column("evaluation_note")
        batch_op.drop_column("responsible_official")
        batch_op.drop_column("target_date")
        batch_op.drop_column("corrective_action_plan")
        batch_op.drop_column("response_state")

    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_recommendation_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_event_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_addressee_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("recommendation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_recommendation_events_timeline")
        batch_op.drop_index(batch_op.f("ix_recommendation_events_addressee_id"))

    op.drop_table("recommendation_events")


def _backfill_history() -> None:
    conn = op.get_bind()
    events = sa.table(
        "recommendation_events",
        sa.column("recommendation_id", sa.Integer),
        sa.column("addressee_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("actor_label", sa.String),
        sa.column("actor_role", sa.String),
        sa.column("occurred_at", sa.DateTime),
        sa.column("effective_on", sa.Date),
        sa.column("status_after", sa.String),
        sa.column("concurrence_after", sa.String),
        sa.column("note", sa.Text),
        sa.column("details", sa.JSON),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    base = {"actor_label": "migration 0002", "actor_role": "system", "occurred_at": now, "note": ""}
    rows = [
        {
            **base,
            "recommendation_id": rec_id,
            "addressee_id": None,
            "kind": "created",
            "effective_on": issued_on,
            "status_after": status,
            "concurrence_after": None,
            "details": {},
        }
        for rec_id, status, issued_on in conn.execute(
            sa.text(
                "SELECT r.id, r.status, p.issued_on FROM recommendations r "
                "JOIN reports p ON p.id = r.report_id ORDER BY r.id"
            ).columns(id=sa.Integer, status=sa.String, issued_on=sa.Date)
        )
    ]
    rows += [
        {
            **base,
            "recommendation_id": rec_id,
            "addressee_id": addressee_id,
            "kind": "concurrence_recorded",
            "effective_on": effective_on,
            "status_after": None,
            "concurrence_after": concurrence,
            "details": {"component": abbreviation},
        }
        for addressee_id, rec_id, concurrence, effective_on, abbreviation in conn.execute(
            sa.text(
                "SELECT a.id, a.recommendation_id, a.concurrence, "
                "COALESCE(a.response_date, p.issued_on) AS effective_on, c.abbreviation "
                "FROM addressees a JOIN recommendations r ON r.id = a.recommendation_id "
                "JOIN reports p ON p.id = r.report_id JOIN components c ON c.id = a.component_id "
                "WHERE a.concurrence <> 'pending' ORDER BY a.id"
            ).columns(
                id=sa.Integer,
                recommendation_id=sa.Integer,
                concurrence=sa.String,
                effective_on=sa.Date,
                abbreviation=sa.String,
            )
        )
    ]
    if rows:
        op.bulk_insert(events, rows)
