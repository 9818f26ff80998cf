"""Acronyms for search: a query's short forms also find what they stand for, and the
other way round ("HSIN" finds "Homeland Security Information Network", "Federal
Emergency Management Agency" finds "FEMA").

The pairs are the components' abbreviations and names, and the acronyms administrators
keep (app.models.Acronym). A query becomes groups of words, all required; a group that
is a known short or long form matches any of its forms, each as a phrase. The same
groups are written as an FTS5 query (SQLite) and as a tsquery (PostgreSQL).

Restricted text is not involved: these are query words; what a reader may see is
decided where the documents are read (app.search.queries)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Acronym, Component

TERM = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 20

Phrase = tuple[str, ...]
Group = tuple[Phrase, ...]  # alternatives: any one of them matches


def terms(text: str) -> list[str]:
    """The words of a text as search sees them: runs of letters and digits, lower case."""
    return TERM.findall(text.lower())


@dataclass(frozen=True)
class Thesaurus:
    """Each known form (as words) and the other forms it stands for."""

    forms: Mapping[Phrase, frozenset[Phrase]] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Thesaurus:
        forms: dict[Phrase, set[Phrase]] = defaultdict(set)
        for short, long in pairs:
            a, b = tuple(terms(short)), tuple(terms(long))
            if a and b and a != b:
                forms[a].add(b)
                forms[b].add(a)
        return cls({k: frozenset(v) for k, v in forms.items()})

    @property
    def longest(self) -> int:
        return max((len(k) for k in self.forms), default=0)


def load(session: Session) -> Thesaurus:
    """Components' abbreviations and names, and the administrators' acronyms (one query)."""
    pairs = sa.union_all(
        sa.select(Component.abbreviation, Component.name),
        sa.select(Acronym.acronym, Acronym.expansion),
    )
    return Thesaurus.of((short, long) for short, long in session.execute(pairs))


def _same_word(typed: str, known: str) -> bool:
    # a plural typed for a singular form: "EOCs" is the acronym EOC
    return typed == known or (len(known) > 1 and typed == known + "s")


def groups(query: str, thesaurus: Thesaurus) -> list[Group]:
    """The query's words in groups, longest known form first. A word or words that form
    a known short or long form become that form and its counterparts."""
    words = terms(query)[:MAX_TERMS]
    out: list[Group] = []
    i = 0
    while i < len(words):
        for size in range(min(thesaurus.longest, len(words) - i), 0, -1):
            typed = words[i : i + size]
            found = next(
                (
                    form
                    for form in thesaurus.forms
                    if len(form) == size and all(_same_word(t, k) for t, k in zip(typed, form, strict=True))
                ),
                None,
            )
            if found is not None:
                out.append((tuple(typed), *sorted(thesaurus.forms[found] - {tuple(typed)})))
                i += size
                break
        else:
            out.append(((words[i],),))
            i += 1
    return out


def expands(found: list[Group]) -> bool:
    """Whether any group has another form than the words typed."""
    return any(len(g) > 1 for g in found)


def fts5_query(found: list[Group]) -> str:
    """SQLite FTS5: every group required (an explicit AND: FTS5 allows no implicit one
    next to parentheses); a group's forms as quoted phrases joined by OR. Words are
    letters and digits only, so quoting them is enough (no user operators)."""

    def phrase(words: Phrase) -> str:
        return '"' + " ".join(words) + '"'

    return " AND ".join(
        phrase(g[0]) if len(g) == 1 else "(" + " OR ".join(phrase(p) for p in g) + ")" for g in found
    )


def tsquery_text(found: list[Group]) -> str:
    """PostgreSQL to_tsquery text: the same groups, phrases with <->, forms with |.
    (The search ORs it with the query as typed, which PostgreSQL's parser may split
    differently from these words: "CPG-502" is "cpg" and "-502" there.)"""

    def phrase(words: Phrase) -> str:
        return " <-> ".join(f"'{w}'" for w in words)

    return " & ".join(
        phrase(g[0]) if len(g) == 1 else "(" + " | ".join(f"({phrase(p)})" for p in g) + ")" for g in found
    )
