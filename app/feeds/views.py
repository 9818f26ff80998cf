"""Atom feeds of status changes, readable without signing in (app.PUBLIC_ENDPOINTS). They
list public recommendations of public reports only; a restricted report's feed answers
the same 404 as a report that does not exist."""

from __future__ import annotations

import hashlib
import logging
from typing import NoReturn

from flask import Blueprint, abort, current_app, request, url_for
from werkzeug.wrappers import Response

from app import clock
from app.extensions import db
from app.feeds import atom, content, queries

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
log = logging.getLogger(__name__)


def _tag(specific: str) -> str:
    """A permanent tag: URI (RFC 4151) under the configured authority."""
    return f"tag:{current_app.config['FEED_TAG_AUTHORITY']},2026:{specific}"


def _rec_url(rec_id: int) -> str:
    return url_for("recommendations.detail", rec_id=rec_id, _external=True)


def _changes(**scope: int) -> list[queries.StatusChange]:
    stmt = queries.status_changes(current_app.config["FEED_MAX_ENTRIES"], **scope)
    return [queries.StatusChange(*row) for row in db.session.execute(stmt)]


def _respond(feed_id: str, title: str, page_url: str, **scope: int) -> Response:
    items = content.entries(db.session, _changes(**scope), _tag, _rec_url)
    feed = content.feed(
        feed_id=_tag(feed_id),
        title=title,
        self_url=request.base_url,
        page_url=page_url,
        items=items,
        empty_updated=clock.now(),
    )
    body = atom.render(feed)
    response = Response(body, content_type=atom.CONTENT_TYPE)
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.last_modified = feed.updated
    # public data: readers may keep a copy but must ask again (the ETag makes that cheap)
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def _not_found(kind: str, item_id: int) -> NoReturn:
    log.info("feed not found: %s %s", kind, item_id)  # ids only, never titles
    abort(404)


@bp.route("/all.atom")
def all_public() -> Response:
    """Status changes of every public recommendation."""
    return _respond(
        "feed/all",
        "RecTrack: status changes of public recommendations",
        url_for("reports.index", _external=True),
    )


@bp.route("/reports/<int:report_id>.atom")
def report_feed(report_id: int) -> Response:
    """Status changes of one public report's public recommendations."""
    report = db.session.scalar(queries.public_report(report_id))
    if report is None:
        _not_found("report", report_id)
    return _respond(
        f"feed/report/{report.id}",
        f"RecTrack: status changes in {content.report_label(report.number, report.title)}",
        url_for("reports.detail", report_id=report.id, _external=True),
        report_id=report.id,
    )


@bp.route("/components/<int:component_id>.atom")
def component_feed(component_id: int) -> Response:
    """Status changes of the public recommendations addressed to one component."""
    found = db.session.scalar(queries.component(component_id))
    if found is None:
        _not_found("component", component_id)
    return _respond(
        f"feed/component/{found.id}",
        f"RecTrack: status changes of recommendations addressed to {found.abbreviation}",
        url_for("components.detail", component_id=found.id, _external=True),
        component_id=found.id,
    )
