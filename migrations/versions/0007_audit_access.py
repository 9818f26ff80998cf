"""Audit events name their record in words; TRUNCATE of the audit trail is refused.

Revision ID: 0007_audit_access
Revises: 0006_login_throttle
Create Date: 2026-11-23

- audit_events.object_label: the record an event is about, in words ("OIG-12-15 #3 /
  FEMA"), as it was when the event was written (app/audit_labels.py). Events older than
  the column are named here from the records that still exist; the names are the same
  as the app's (tests/test_audit_access.py checks it). Filling a new column is the only
  write to old events: the row trigger that refuses UPDATE is lifted for it inside this
  migration's transaction, by the migration role that owns the table, and put back
  before the transaction ends. Events of records deleted before this migration keep no
  name; the audit page shows their type and id.
- PostgreSQL: a statement-level trigger refuses TRUNCATE on audit_events (the row
  triggers of the first migration do not fire for TRUNCATE). SQLite has no TRUNCATE.
- The downgrade refuses to drop object_label without `-x drop-audit-trail=yes`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_audit_access"
down_revision = "0006_login_throttle"
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


REPORT = (
    "COALESCE(rp.number, CASE WHEN length(rp.title) > 60 "
    "THEN substr(rp.title, 1, 59) || '…' ELSE rp.title END)"
)
REC = f"{REPORT} || ' #' || CAST(r.number AS VARCHAR)"
REPORT_JOIN = "JOIN reports rp ON rp.id = r.report_id"
PART = "COALESCE(' / ' || c.abbreviation, '')"

# object_type -> (name, FROM clause, the aliased id column)
NAMES = {
    "reports": (REPORT, "reports rp", "rp.id"),
    "recommendations": (REC, f"recommendations r {REPORT_JOIN}", "r.id"),
    "addressees": (
        f"{REC} || ' / ' || c.abbreviation",
        f"addressees a JOIN recommendations r ON r.id = a.recommendation_id {REPORT_JOIN} "
        "JOIN components c ON c.id = a.component_id",
        "a.id",
    ),
    "recommendation_events": (
        f"{REC} || {PART} || ': ' || replace(e.kind, '_', ' ')",
        f"recommendation_events e JOIN recommendations r ON r.id = e.recommendation_id {REPORT_JOIN} "
        "LEFT JOIN addressees a ON a.id = e.addressee_id LEFT JOIN components c ON c.id = a.component_id",
        "e.id",
    ),
    "attachments": (
        f"{REC} || {PART} || ': ' || f.original_name",
        f"attachments f JOIN recommendations r ON r.id = f.recommendation_id {REPORT_JOIN} "
        "LEFT JOIN addressees a ON a.id = f.addressee_id LEFT JOIN components c ON c.id = a.component_id",
        "f.id",
    ),
    "users": ("u.email", "users u", "u.id"),
    "components": ("c.abbreviation", "components c", "c.id"),
}

SQLITE_GUARD = (
    "CREATE TRIGGER audit_events_no_{verb_lower} BEFORE {verb} ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("object_label", sa.String(length=200), nullable=True))
    _name_older_events()
    if _postgresql():
        op.execute(
            "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
        )


def _name_older_events() -> None:
    if _postgresql():
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
    else:
        op.execute("DROP TRIGGER audit_events_no_update")
    for object_type, (name, source, key) in NAMES.items():
        op.execute(
            sa.text(
                f"UPDATE audit_events SET object_label = "  # noqa: S608 (constants of this file only)
                f"(SELECT substr({name}, 1, 200) FROM {source} WHERE {key} = audit_events.object_id) "
                "WHERE object_type = :object_type AND object_id IS NOT NULL AND object_label IS NULL"
            ).bindparams(object_type=object_type)
        )
    if _postgresql():
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update")
    else:
        op.execute(SQLITE_GUARD.format(verb="UPDATE", verb_lower="update"))


def downgrade() -> None:
    _refuse_to_drop_audit_trail("the audit trail's column audit_events.object_label")
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.drop_column("audit_events", "object_label")
