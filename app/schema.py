"""Whether the database's schema is the one this code expects: the revision recorded in
`alembic_version` against the head of `migrations/versions`. The start-up check and
`/readyz` both ask here."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from config import BASE_DIR


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: an empty (never migrated) database
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def problem(self) -> str | None:
        """One line for an operator, or None when the schema is at the head."""
        if self.at_head:
            return None
        found = f"at revision {self.current}" if self.current else "not migrated (no alembic_version)"
        return f"The database schema is {found}, not {self.head}: run `flask --app app db upgrade` first."


@cache
def head_revision() -> str:
    """The newest migration in this code (one head: the chain is linear)."""
    script = ScriptDirectory(str(BASE_DIR / "migrations"))
    heads = script.get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations/versions has {len(heads)} heads; it must have one.")
    return heads[0]


def schema_status(connection: Connection) -> SchemaStatus:
    """The database's revision beside the code's head."""
    current = MigrationContext.configure(connection).get_current_revision()
    return SchemaStatus(current=current, head=head_revision())
