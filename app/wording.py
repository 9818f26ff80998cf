"""Counted nouns ("1 response", "3 responses"): the one helper for every count in a page,
PDF, message or command, also a template filter (`n|count('response')`, `n|noun('is', 'are')`)."""

from __future__ import annotations


def noun(n: int, singular: str, plural: str | None = None) -> str:
    """The word for `n` things: `singular` for exactly one, else `plural` (default: +s).
    Works for verbs too: noun(n, "is", "are"), noun(n, "matches", "match")."""
    return singular if n == 1 else (plural if plural is not None else f"{singular}s")


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`n` with thousands separators and its word: "1 response", "1,204 responses"."""
    return f"{n:,} {noun(n, singular, plural)}"
