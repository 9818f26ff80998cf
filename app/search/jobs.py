"""Rebuilding the search index as a background job (administrators), with a count."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.jobs import registry
from app.search import index

KIND = "reindex"


def run(session: Session, user: Any, params: dict[str, Any], progress: registry.Progress) -> registry.Output:
    """Rewrite every search document; the result is a short summary."""

    def step(done: int, total: int) -> None:
        progress("Indexing reports and recommendations", done, total)

    total = index.rebuild(session.connection(), step)
    summary = f"The search index was rebuilt: {total:,} reports and recommendations indexed."
    return registry.Output(
        (summary + "\n").encode(), "search-index-rebuilt.txt", "text/plain", {"summary": summary}
    )


registry.register(KIND, run, writes=True)
