"""The data version and the search documents move once per committed transaction that
wrote data, not once per flush (an import flushes thousands of times in one transaction);
a rolled-back transaction or savepoint leaves them as they were."""

from __future__ import annotations

import sqlalchemy as sa

from app import cache, clock
from app.audit import AuditActor
from app.extensions import db
from app.imports.reader import read_sheet
from app.imports.services import run_import
from app.models import SearchDocument
from app.search import index
from app.search.queries import search
from tests.conftest import EMAILS, rec, report_by_number, user_by_email
from tests.test_imports_exports import _csv, _new_rows

DOCS = SearchDocument.__table__


def _version() -> int:
    return cache.data_version(db.session)


def _document(kind: str, ref_id: int) -> tuple[str, str]:
    row = db.session.execute(
        sa.select(DOCS.c.title, DOCS.c.body).where(DOCS.c.kind == kind, DOCS.c.ref_id == ref_id)
    ).one()
    return row.title, row.body


def test_two_flushes_and_a_commit_move_the_version_by_one() -> None:
    before = _version()
    first, second = rec("OIG-12-15", 3), rec("OIG-12-15", 4)
    first.text += " First change."
    db.session.flush()
    assert _version() == before  # counted at commit, not at the flush
    assert cache.has_unbumped_writes(db.session)
    second.text += " Second change."
    db.session.flush()
    db.session.commit()
    assert _version() == before + 1
    assert not cache.has_unbumped_writes(db.session)
    db.session.commit()  # a transaction that wrote nothing
    assert _version() == before + 1


def test_a_rolled_back_transaction_leaves_the_version() -> None:
    before = _version()
    rec("OIG-12-15", 3).text += " Undone."
    db.session.flush()
    db.session.rollback()
    assert not cache.has_unbumped_writes(db.session)
    db.session.commit()
    assert _version() == before


def test_a_rolled_back_savepoint_is_not_counted_a_committed_one_is() -> None:
    before = _version()
    savepoint = db.session.begin_nested()
    rec("OIG-12-15", 3).text += " Undone."
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert _version() == before
    savepoint = db.session.begin_nested()
    rec("OIG-12-15", 3).text += " Kept."
    db.session.flush()
    savepoint.commit()
    db.session.commit()
    assert _version() == before + 1


def test_an_import_dry_run_leaves_the_version_and_a_commit_moves_it_once() -> None:
    data = _csv(_new_rows())
    before = _version()
    result = run_import(
        db.session,
        AuditActor.system("tests"),
        read_sheet(data),
        filename="t.csv",
        data=data,
        commit=False,
        today=clock.today(),
    )
    assert result.ok
    assert not result.committed
    db.session.commit()
    assert _version() == before
    result = run_import(
        db.session,
        AuditActor.system("tests"),
        read_sheet(data),
        filename="t.csv",
        data=data,
        commit=True,
        today=clock.today(),
    )
    assert result.committed
    db.session.commit()
    assert _version() == before + 1
    assert report_by_number("OIG-99-01").title == "A synthetic imported report (test fixture)"


def test_a_cached_value_is_not_computed_from_uncommitted_writes() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    key = ("test_write_once",)
    assert cache.current(db.session, key, compute) == 1
    assert cache.current(db.session, key, compute) == 1  # cached
    rec("OIG-12-15", 3).text += " Pending."
    db.session.flush()
    assert cache.current(db.session, key, compute) == 2  # computed, not cached
    assert cache.current(db.session, key, compute) == 3
    db.session.rollback()
    assert cache.current(db.session, key, compute) == 1  # the committed state's value again
    rec("OIG-12-15", 3).text += " Committed."
    db.session.commit()
    assert cache.current(db.session, key, compute) == 4  # a new version
    assert cache.current(db.session, key, compute) == 4


def test_search_documents_after_a_transaction_of_several_flushes() -> None:
    cpg = rec("OIG-12-15", 3)
    report = report_by_number("OIG-12-15")
    cpg.text = "Adopt the quokka protocol."
    db.session.flush()
    report.title = "Platypus readiness"
    db.session.flush()
    # a search inside the transaction sees its own writes
    oig = user_by_email(EMAILS["oig"])
    assert ("recommendation", cpg.id) in [(h.kind, h.ref_id) for h in search(db.session, oig, "quokka")]
    db.session.commit()
    title, body = _document("recommendation", cpg.id)
    assert title == "OIG-12-15 recommendation 3: Platypus readiness"
    assert body.startswith("Adopt the quokka protocol.\n")
    assert _document("report", report.id)[0] == "OIG-12-15 Platypus readiness"
    other = rec("OIG-12-15", 4)  # not changed itself: its document follows the report's title
    assert _document("recommendation", other.id)[0] == "OIG-12-15 recommendation 4: Platypus readiness"


def test_a_report_change_outside_number_and_title_leaves_its_recommendations_documents() -> None:
    report = report_by_number("OIG-12-15")
    cpg = rec("OIG-12-15", 3)
    db.session.execute(
        sa.update(DOCS).where(DOCS.c.kind == "recommendation", DOCS.c.ref_id == cpg.id).values(body="stale")
    )
    report.summary = "A new summary about numbats."
    db.session.commit()
    assert _document("recommendation", cpg.id)[1] == "stale"  # not rewritten
    assert _document("report", report.id)[1].startswith("A new summary about numbats.")
    report.title = "Echidna matters"
    db.session.commit()
    assert _document("recommendation", cpg.id)[1] != "stale"
    assert _document("recommendation", cpg.id)[0] == "OIG-12-15 recommendation 3: Echidna matters"


def test_pending_documents_are_dropped_with_a_rollback() -> None:
    rec("OIG-12-15", 3).text += " Undone."
    db.session.flush()
    assert db.session.info.get(index.PENDING)
    db.session.rollback()
    assert not db.session.info.get(index.PENDING)
