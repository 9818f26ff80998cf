"""Where a status PDF may break a page: a recommendation's block is kept whole when it is
short. Keeping a long block whole would only move it to the next page, leaving most of a
page blank, and it would be split there anyway; so "short" is estimated from its text."""

from __future__ import annotations

from typing import Any

# 9 pt DejaVu Sans across the 180 mm text width (less the parts' indent): about 100
# characters a line. A Letter page holds about 55 lines of 9 pt text.
CHARS_PER_LINE = 100
SHORT_LINES = 24  # a block of up to about 45% of a page is kept on one page


def _lines(text: str | None) -> int:
    if not text:
        return 0
    return sum(1 + len(paragraph) // CHARS_PER_LINE for paragraph in text.split("\n"))


def estimated_lines(line: Any) -> int:
    """Roughly how many lines `pdf/_macros.html` rec_block prints for a RecLine."""
    if not line.visible:
        return 2
    snap = line.snap
    total = 4 + _lines(line.rec.text) + _lines(snap.decision_note)  # heading, text, dates, clocks
    for part in snap.addressees:
        total += 4  # heading, response, closure, clocks
        total += sum(
            _lines(text)
            for text in (
                part.response,
                part.corrective_action_plan,
                part.responsible_official,
                part.evaluation_note,
                part.closure_note,
            )
        )
        total += bool(part.target_date) + bool(part.last_update_on)
    updates = snap.updates[:3]
    if updates:
        total += 1 + sum(_lines(f"{u.effective_on} {u.note}") for u in updates)
    return total


def keep_together(line: Any) -> bool:
    """True when the block is short enough to move to the next page whole rather than
    be split between two."""
    return estimated_lines(line) <= SHORT_LINES
