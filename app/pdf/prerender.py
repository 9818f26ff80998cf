"""Rendered ahead: after a write, the status PDFs it changes (its reports', its
components') are made again in the background, so the next download comes from the cache.

A write's transaction notes what it touched; once it commits, a task is sent to run
PRERENDER_DELAY_SECONDS later with the data version of that moment. A burst of writes
sends several; each one that finds the data version moved on since it was sent stands
down, so only the last write's task renders (debounced). The PDFs are made for the
readers most downloads come from: congressional staff (the public view) and OIG staff,
and for a component's PDF its own liaisons; a report's PDF also for the public portal's
anonymous visitors when PUBLIC_PORTAL is on (they wait for it in the request otherwise)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from celery import shared_task
from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, UOWTransaction

from app.auth import policy
from app.cache import data_version
from app.database import writing
from app.extensions import db
from app.models import Addressee, Component, Recommendation, RecommendationEvent, Report, Role
from app.pdf import engine, services
from app.pdf.options import settings
from app.reports import queries as report_queries

log = logging.getLogger(__name__)
NOTED = "prerender"


@dataclass(frozen=True)
class Reader:
    """Whom a PDF is made for: what app.auth.policy and the cache key read of a user."""

    role: Role
    component_ids: frozenset[int] = field(default_factory=frozenset)
    is_authenticated: bool = True


READERS = (Reader(Role.VIEWER), Reader(Role.OIG))
# A write touching more reports and components than this (a seed, an import, a bulk load)
# is not rendered ahead: its PDFs are made when first asked for.
MAX_SUBJECTS = 10


def _note_after_flush(session: Session, _ctx: UOWTransaction) -> None:
    noted = session.info.setdefault(NOTED, {"recs": set(), "reports": set(), "components": set()})
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Recommendation):
            noted["recs"].add(obj.id)
            noted["reports"].add(obj.report_id)
        elif isinstance(obj, Addressee | RecommendationEvent):
            noted["recs"].add(obj.recommendation_id)
        elif isinstance(obj, Report):
            noted["reports"].add(obj.id)
        if isinstance(obj, Addressee):
            noted["components"].add(obj.component_id)


def _send_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint's commit (one per item of an import): the transaction is still open
    noted = session.info.pop(NOTED, None)
    if not noted or not has_app_context() or current_app.config["JOBS_BACKEND"] != "celery":
        return
    try:
        with db.engine.connect() as conn:  # the session is between transactions here
            version = data_version(conn)
        prerender.apply_async(
            args=[sorted(noted["recs"]), sorted(noted["reports"]), sorted(noted["components"]), version],
            countdown=current_app.config["PRERENDER_DELAY_SECONDS"],
            retry=False,
        )
    except Exception:  # rendering ahead is a nicety: a write never fails for it
        log.warning("could not schedule rendering ahead", exc_info=True)


def _forget(session: Session, *_: Any) -> None:
    session.info.pop(NOTED, None)


def install(session_class: type[Session]) -> None:
    """Note what each write touches, and render ahead once it commits (idempotent)."""
    for name, listener in (
        ("after_flush", _note_after_flush),
        ("after_commit", _send_after_commit),
        ("after_rollback", _forget),
    ):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


def _subjects(
    session: Session, rec_ids: list[int], report_ids: list[int], component_ids: list[int]
) -> tuple[list[Report], list[Component]]:
    reports = set(report_ids) | set(
        session.scalars(sa.select(Recommendation.report_id).where(Recommendation.id.in_(rec_ids)))
    )
    components = set(component_ids) | set(
        session.scalars(sa.select(Addressee.component_id).where(Addressee.recommendation_id.in_(rec_ids)))
    )
    loaded = [r for rid in sorted(reports) if (r := session.scalar(report_queries.report_detail(rid)))]
    return loaded, list(session.scalars(sa.select(Component).where(Component.id.in_(components))))


def warm(session: Session, reader: Any, request: services.PdfRequest, conf: services.Settings) -> bool:
    """Make the PDF into the cache unless it is there; whether it was made."""
    assert conf.cache is not None
    etag = services.etag_for(session, reader, request)
    if conf.cache.get(etag) is not None:
        return False
    html = services.build_html(session, reader, request, conf)
    pdf = engine.render(html, conf.static_root, conf.timeout_seconds).pdf
    session.commit()  # end the reads; the write below begins its own transaction
    with writing():
        conf.cache.put(etag, pdf)
        session.commit()
    return True


@shared_task(name="rectrack.prerender")
def prerender(rec_ids: list[int], report_ids: list[int], component_ids: list[int], version: int) -> int | str:
    """Render the PDFs a write changed, unless a later write superseded this one."""
    session = db.session
    if data_version(session) != version:
        return "superseded"
    conf = settings()
    reports, components = _subjects(session, rec_ids, report_ids, component_ids)
    if len(reports) + len(components) > MAX_SUBJECTS:
        return "bulk change: not rendered ahead"  # a seed or an import: the next download renders
    made = 0
    report_readers = (*READERS, policy.PublicReader()) if current_app.config["PUBLIC_PORTAL"] else READERS
    for report in reports:
        for reader in (r for r in report_readers if policy.can_view_report(r, report)):
            made += warm(session, reader, services.PdfRequest("report", conf.today, report=report), conf)
    for component in components:
        for reader in (*READERS, Reader(Role.LIAISON, frozenset({component.id}))):
            made += warm(
                session, reader, services.PdfRequest("component", conf.today, component=component), conf
            )
    return made


@shared_task(name="rectrack.expire_pdf_cache")
def expire_pdf_cache() -> int:
    """Forget cached PDFs past their time."""
    from app import clock
    from app.pdf.cache import remove_expired

    with writing():
        removed = remove_expired(db.session, clock.now())
        db.session.commit()
    return removed
