"""A feed's entries from the status changes of public items: identifiers, statuses and
dates only, never recommendation or response text (issue 15)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from app.feeds import queries
from app.feeds.atom import Entry, Feed
from app.models.recommendation import NUMBER_NOT_KNOWN
from app.templating import format_date, role_label

AUTHOR = "RecTrack"


def rec_heading(number: int | None) -> str:
    """As Recommendation.heading says it."""
    return f"Recommendation {number}" if number is not None else f"Recommendation, {NUMBER_NOT_KNOWN}"


def report_label(number: str | None, title: str) -> str:
    """As str(Report) says it: its number, or its title while the number is not known."""
    return number or title


def entries(
    session: Session,
    changes: Sequence[queries.StatusChange],
    tag: Callable[[str], str],
    rec_url: Callable[[int], str],
) -> list[Entry]:
    """One entry per status change (two queries in all: the changes, then their addressees)."""
    addressed: dict[int, list[str]] = defaultdict(list)
    if changes:
        for rec_id, abbreviation in session.execute(
            queries.addressed_components({c.rec_id for c in changes})
        ):
            addressed[rec_id].append(abbreviation)
    out = []
    for c in changes:
        where = f"{report_label(c.report_number, c.report_title)}, {rec_heading(c.rec_number)}"
        components = ", ".join(addressed[c.rec_id]) or "no component recorded"
        out.append(
            Entry(
                id=tag(f"status-change/{c.event_id}"),
                title=f"{where}: {c.status_after.label}",
                updated=c.occurred_at,
                link=rec_url(c.rec_id),
                author=role_label(c.actor_role),
                summary=(
                    f"{where} (addressed to {components}). {c.kind.label}: the status is now "
                    f"{c.status_after.label}, effective {format_date(c.effective_on)}."
                ),
            )
        )
    return out


def feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    page_url: str,
    items: list[Entry],
    empty_updated: datetime,
) -> Feed:
    """A feed whose <updated> is its newest entry's (`empty_updated` when it has none)."""
    updated = max((e.updated for e in items), default=empty_updated)
    return Feed(
        id=feed_id,
        title=title,
        self_url=self_url,
        page_url=page_url,
        author=AUTHOR,
        updated=updated,
        entries=items,
    )
