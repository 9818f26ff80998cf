"""One search function, two back ends: SQLite FTS5 (bm25 ranking, highlight/snippet)
and PostgreSQL full-text search (ts_rank, ts_headline). Results are ranked, the matched
words marked, and only what the reader may see is ever returned. Acronyms and what
they stand for find each other (app.search.thesaurus), the same way on both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from app.auth import policy
from app.extensions import db
from app.models import Recommendation, Report, SearchDocument
from app.search import index, thesaurus
from app.search.thesaurus import Group, Thesaurus

DOCS = SearchDocument.__table__
FTS = sa.table("search_fts", sa.column("rowid"), sa.column("title"), sa.column("body"))
START, STOP = "\x02", "\x03"  # never in user text; become <mark> after escaping


@dataclass(frozen=True)
class Hit:
    kind: str
    ref_id: int
    report_id: int
    title: Markup
    snippet: Markup
    rank: float


def terms(query: str) -> list[str]:
    return thesaurus.terms(query)[: thesaurus.MAX_TERMS]


def _marked(text: str | None) -> Markup:
    # escaped first; only our own markers become tags
    return Markup(str(escape(text or "")).replace(START, "<mark>").replace(STOP, "</mark>"))  # noqa: S704


def _visible(user: Any) -> sa.ColumnElement[bool]:
    """The documents of records the user may read: a primary-key probe for each matching
    document (an IN over every readable id built the list of all of them for every search:
    at 100,000 recommendations most of a search's time)."""
    recs = sa.exists().where(Recommendation.id == DOCS.c.ref_id, policy.recommendation_visibility(user))
    reports = sa.exists().where(Report.id == DOCS.c.ref_id, policy.report_visibility(user))
    return sa.or_(
        sa.and_(DOCS.c.kind == "recommendation", recs),
        sa.and_(DOCS.c.kind == "report", reports),
    )


def _sqlite_match(
    found: list[Group],
) -> tuple[sa.FromClause, sa.TextClause, sa.ColumnElement[float]]:
    joined = DOCS.join(FTS, FTS.c.rowid == DOCS.c.id)
    match = sa.text("search_fts MATCH :fts_query").bindparams(fts_query=thesaurus.fts5_query(found))
    rank: sa.ColumnElement[float] = sa.literal_column("bm25(search_fts, 5.0, 1.0)")  # lower is better
    return joined, match, rank


# an untyped literal, so PostgreSQL reads it as regconfig
ENGLISH: sa.ColumnElement[Any] = sa.literal_column("'english'")


def _postgres_query(query: str, found: list[Group]) -> sa.ColumnElement[Any]:
    """The query as typed, parsed by PostgreSQL like the documents ("CPG-502" stays one
    token there); with acronyms in it, OR the same words with their other forms."""
    typed = sa.func.websearch_to_tsquery(ENGLISH, sa.bindparam("ts_query", query, type_=sa.Text))
    if not thesaurus.expands(found):
        return typed
    text = thesaurus.tsquery_text(found)
    return typed.op("||")(sa.func.to_tsquery(ENGLISH, sa.bindparam("ts_expanded", text, type_=sa.Text)))


def search(session: Session, user: Any, query: str, limit: int = 50) -> list[Hit]:
    """Ranked hits for `query` among the documents this user may read."""
    if not terms(query):
        return []
    index.refresh_pending(session)  # this transaction's own writes, not committed yet
    found = thesaurus.groups(query, thesaurus.load(session))
    if session.get_bind().dialect.name == "sqlite":
        joined, match, rank = _sqlite_match(found)
        stmt = (
            sa.select(
                DOCS.c.kind,
                DOCS.c.ref_id,
                DOCS.c.report_id,
                sa.func.highlight(sa.literal_column("search_fts"), 0, START, STOP).label("title"),
                sa.func.snippet(sa.literal_column("search_fts"), 1, START, STOP, "…", 32).label("snippet"),
                rank.label("rank"),
            )
            .select_from(joined)
            .where(match, _visible(user))
            .order_by(rank, DOCS.c.id)
        )
    else:
        tsquery = _postgres_query(query, found)
        tsv: sa.ColumnElement[Any] = sa.literal_column("search_documents.tsv")
        rank = sa.func.ts_rank_cd(tsv, tsquery)
        options = f"StartSel={START}, StopSel={STOP}"
        stmt = (
            sa.select(
                DOCS.c.kind,
                DOCS.c.ref_id,
                DOCS.c.report_id,
                sa.func.ts_headline("english", DOCS.c.title, tsquery, f"{options}, HighlightAll=true").label(
                    "title"
                ),
                sa.func.ts_headline(
                    "english", DOCS.c.body, tsquery, f"{options}, MaxFragments=2, MaxWords=32, MinWords=12"
                ).label("snippet"),
                rank.label("rank"),
            )
            .where(tsv.op("@@")(tsquery), _visible(user))
            .order_by(rank.desc(), DOCS.c.id)
        )
    return [
        Hit(r.kind, r.ref_id, r.report_id, _marked(r.title), _marked(r.snippet), float(r.rank))
        for r in session.execute(stmt.limit(limit))
    ]


def hit_records(hits: list[Hit]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The recommendations and reports the hits point to (their links and titles)."""
    rec_ids = [h.ref_id for h in hits if h.kind == "recommendation"]
    report_ids = {h.report_id for h in hits}
    return (
        sa.select(Recommendation).where(Recommendation.id.in_(rec_ids)),
        sa.select(Report).where(Report.id.in_(report_ids)),
    )


class TextMatch(ColumnElement[bool]):
    """`search_documents` rows matching a query's groups of words, compiled for each
    database."""

    type = sa.Boolean()
    inherit_cache = False  # the query text is not a cache key; do not cache the SQL

    def __init__(self, query: str, found: list[Group]) -> None:
        self.query = query
        self.found = found


@compiles(TextMatch, "sqlite")
def _text_match_sqlite(element: TextMatch, compiler: Any, **kw: Any) -> str:
    text = thesaurus.fts5_query(element.found)
    bound = compiler.process(sa.bindparam("fts_match", text, unique=True), **kw)
    return f"search_documents.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {bound})"  # noqa: S608


@compiles(TextMatch, "postgresql")
def _text_match_postgresql(element: TextMatch, compiler: Any, **kw: Any) -> str:
    bound = compiler.process(sa.bindparam("ts_match", element.query, unique=True), **kw)
    tsquery = f"websearch_to_tsquery('english', {bound})"
    if thesaurus.expands(element.found):  # as _postgres_query
        text = thesaurus.tsquery_text(element.found)
        expanded = compiler.process(sa.bindparam("ts_expanded", text, unique=True), **kw)
        tsquery = f"({tsquery} || to_tsquery('english', {expanded}))"
    return f"search_documents.tsv @@ {tsquery}"


def matching_recommendations(query: str, known: Thesaurus | None = None) -> sa.Select[int]:
    """Ids of recommendations whose document matches (for the list's text filter; the
    list applies visibility itself). The acronyms are read from the app's session
    unless given."""
    if not terms(query):
        return sa.select(DOCS.c.ref_id).where(sa.false())
    index.refresh_pending(db.session)  # this transaction's own writes, not committed yet
    found = thesaurus.groups(query, known if known is not None else thesaurus.load(db.session))
    return sa.select(DOCS.c.ref_id).where(DOCS.c.kind == "recommendation", TextMatch(query, found))
