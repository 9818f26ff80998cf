"""Initial schema: components, reports, recommendations, addressees, users, audit trail.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22

The audit trail is append-only in the database too: triggers refuse UPDATE and DELETE
on audit_events, on SQLite and on PostgreSQL. The downgrade refuses to drop the audit
trail without `-x drop-audit-trail=yes`.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


# The audit trail outlives the schema: a downgrade that would drop it (or, in later
# revisions, any of its columns) stops unless the operator says so explicitly, after a
# backup (docs/backups.md): `flask --app app db downgrade -x drop-audit-trail=yes REV`.
DROP_AUDIT_FLAG = "drop-audit-trail"


def _refuse_to_drop_audit_trail(what: str) -> None:
    from alembic import context

    if context.get_x_argument(as_dictionary=True).get(DROP_AUDIT_FLAG) == "yes":
        return
    held = ""
    if not context.is_offline_mode():
        count = op.get_bind().execute(sa.text("SELECT count(*) FROM audit_events")).scalar()
        held = f" ({count} audit event(s))"
    raise RuntimeError(
        f"Refusing to downgrade {revision}: it would drop {what}{held}. "
        "Back the database up first (docs/backups.md), then run the downgrade again with "
        f"`-x {DROP_AUDIT_FLAG}=yes` (flask --app app db downgrade -x {DROP_AUDIT_FLAG}=yes ...)."
    )


def upgrade() -> None:
    op.create_table(
        "components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("abbreviation", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint("abbreviation <> ''", name=op.f("ck_components_abbreviation_not_empty")),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["components.id"],
            name=op.f("fk_components_parent_id_components"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_components")),
        sa.UniqueConstraint("abbreviation", name=op.f("uq_components_abbreviation")),
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_components_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=True),
        sa.Column(
            "issuing_office",
            sa.String(length=120),
            server_default="DHS OIG",
            nullable=False,
        ),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column(
            "issued_on_approximate",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
        sa.Column(
            "report_type",
            sa.Enum(
                "audit",
                "inspection",
                "evaluation",
                "review",
                "management_alert",
                "other",
                name="report_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("recommendations_published", sa.Integer(), nullable=True),
        sa.Column("concurrence_summary", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "sensitivity",
            sa.Enum(
                "public",
                "restricted",
                name="sensitivity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("sources", sa.Text(), server_default="", nullable=False),
        sa.Column("notes", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("number IS NULL OR number <> ''", name=op.f("ck_reports_number_not_empty")),
        sa.CheckConstraint(
            "recommendations_published IS NULL OR recommendations_published >= 0",
            name=op.f("ck_reports_recommendations_published_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("number", name=op.f("uq_reports_number")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_issued_on"), ["issued_on"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "oig",
                "liaison",
                "viewer",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("session_version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("failed_login_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("email <> ''", name=op.f("ck_users_email_not_empty")),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_users_email_lower_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=254), nullable=False),
        sa.Column("actor_role", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("object_type", sa.String(length=60), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("source_ip", sa.String(length=45), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('success', 'failure', 'denied')",
            name=op.f("ck_audit_events_outcome_known"),
        ),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index("ix_audit_events_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "recommendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "text_source",
            sa.Enum(
                "verbatim",
                "summary",
                "partial",
                name="text_source",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("significant", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("questioned_costs", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("funds_put_to_better_use", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column(
            "sensitivity",
            sa.Enum(
                "public",
                "restricted",
                name="sensitivity",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
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
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "funds_put_to_better_use IS NULL OR funds_put_to_better_use >= 0",
            name=op.f("ck_recommendations_funds_put_to_better_use_not_negative"),
        ),
        sa.CheckConstraint("number > 0", name=op.f("ck_recommendations_number_positive")),
        sa.CheckConstraint(
            "questioned_costs IS NULL OR questioned_costs >= 0",
            name=op.f("ck_recommendations_questioned_costs_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_recommendations_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendations")),
        sa.UniqueConstraint("report_id", "number", name=op.f("uq_recommendations_report_id_number")),
    )
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendations_status"), ["status"], unique=False)

    op.create_table(
        "report_components",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_report_components_component_id_components"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name=op.f("fk_report_components_report_id_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "component_id", name=op.f("pk_report_components")),
    )
    with op.batch_alter_table("report_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_components_component_id"),
            ["component_id"],
            unique=False,
        )

    op.create_table(
        "user_components",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_user_components_component_id_components"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_components_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "component_id", name=op.f("pk_user_components")),
    )
    with op.batch_alter_table("user_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_components_component_id"),
            ["component_id"],
            unique=False,
        )

    op.create_table(
        "addressees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("is_lead", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "concurrence",
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
            nullable=False,
        ),
        sa.Column("response", sa.Text(), server_default="", nullable=False),
        sa.Column("response_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.id"],
            name=op.f("fk_addressees_component_id_components"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_addressees_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addressees")),
        sa.UniqueConstraint(
            "recommendation_id",
            "component_id",
            name=op.f("uq_addressees_recommendation_id_component_id"),
        ),
    )
    with op.batch_alter_table("addressees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addressees_component_id"), ["component_id"], unique=False)
        batch_op.create_index(
            "uq_addressees_one_lead",
            ["recommendation_id"],
            unique=True,
            sqlite_where=sa.text("is_lead"),
            postgresql_where=sa.text("is_lead"),
        )
    _create_append_only_guard()


def downgrade() -> None:
    _refuse_to_drop_audit_trail("the audit trail, table audit_events")
    _drop_append_only_guard()
    with op.batch_alter_table("addressees", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_addressees_one_lead",
            sqlite_where=sa.text("is_lead"),
            postgresql_where=sa.text("is_lead"),
        )
        batch_op.drop_index(batch_op.f("ix_addressees_component_id"))

    op.drop_table("addressees")
    with op.batch_alter_table("user_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_components_component_id"))

    op.drop_table("user_components")
    with op.batch_alter_table("report_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_components_component_id"))

    op.drop_table("report_components")
    with op.batch_alter_table("recommendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendations_status"))

    op.drop_table("recommendations")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_occurred_at"))
        batch_op.drop_index("ix_audit_events_object")
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    op.drop_table("users")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_issued_on"))

    op.drop_table("reports")
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_parent_id"))

    op.drop_table("components")


def _create_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_events is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events "
            "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
                "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
            )


def _drop_append_only_guard() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
