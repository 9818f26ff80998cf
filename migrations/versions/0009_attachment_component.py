"""Each supporting document keeps the component it belongs to.

Revision ID: 0009_attachment_component
Revises: 0008_edit_versions
Create Date: 2026-12-01

Until now a document's component was read through its addressee row. When OIG staff
removed a component from a recommendation, that row went, `addressee_id` became NULL and
the document was treated as the OIG's own: on a restricted recommendation the other
components' liaisons could download it. `component_id` is set on upload and never
follows the addressee row.

Existing documents get it from their addressee. A document whose addressee is already
gone gets it from the history event it was uploaded with, which names the component
(every upload so far came with such an event); one that cannot be traced stays NULL.
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009_attachment_component"
down_revision = "0008_edit_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("component_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_attachments_component_id"), ["component_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_attachments_component_id_components"),
            "components",
            ["component_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachments_component_id_components"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_attachments_component_id"))
        batch_op.drop_column("component_id")


def _backfill() -> None:
    conn = op.get_bind()
    conn.execute(
        sa.text(
            "UPDATE attachments SET component_id = "
            "(SELECT a.component_id FROM addressees a WHERE a.id = attachments.addressee_id) "
            "WHERE addressee_id IS NOT NULL"
        )
    )
    components = dict(conn.execute(sa.text("SELECT abbreviation, id FROM components")).all())
    orphans = conn.execute(
        sa.text(
            "SELECT d.id, e.details FROM attachments d "
            "JOIN recommendation_events e ON e.id = d.event_id "
            "WHERE d.addressee_id IS NULL AND d.component_id IS NULL"
        )
    ).all()
    for attachment_id, details in orphans:
        if isinstance(details, str):  # JSON text on SQLite, decoded JSONB on PostgreSQL
            details = json.loads(details)
        component_id = components.get((details or {}).get("component"))
        if component_id is not None:
            conn.execute(
                sa.text("UPDATE attachments SET component_id = :component WHERE id = :id"),
                {"component": component_id, "id": attachment_id},
            )
