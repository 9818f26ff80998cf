"""Text from outside RecTrack: which characters it may hold.

Control characters (C0 other than tab, line feed and carriage return; DEL; C1) are never
typed into a page or a spreadsheet on purpose, PostgreSQL cannot store NUL at all, and the
others would reach pages, PDFs and exports unseen. Everything that comes in is checked:
query strings and forms at the edge (app/web.py), uploaded spreadsheets cell by cell
(app/imports), and the text inside list cursors (app/keyset.py).
"""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CONTROL_CHARACTER_MESSAGE = (
    "RecTrack does not accept control characters (such as a NUL byte) in what you send; "
    "tabs and line breaks are fine. Go back, remove the character and try again."
)


# What a form, an import cell or an export says for a fact no source gives: a report's
# issue date, a recommendation's number. A blank is never read as this: it may be a slip.
NOT_KNOWN = "not known"


def is_not_known(text: str) -> bool:
    """Whether `text` says the value is not known ("not known", "Not Known", "unknown")."""
    return " ".join(text.lower().split()) in (NOT_KNOWN, "unknown")


def has_control_characters(text: str) -> bool:
    """True when `text` holds a character RecTrack refuses (see the module docstring)."""
    return CONTROL_CHARACTERS.search(text) is not None
