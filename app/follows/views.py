"""Follow and Unfollow buttons (report and component pages, and the preferences page)."""

from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.follows import services
from app.web import safe_next, save

bp = Blueprint("follows", __name__, url_prefix="/follows")

FOLLOWED = "You follow it now: each Monday you get a summary of its status changes."
UNFOLLOWED = "You no longer follow it."


def _done(kind: str, target_id: int, following: bool, page: str) -> Response | tuple[str, int]:
    action = services.follow if following else services.unfollow
    done = save(
        None,
        lambda: action(db.session, current_user, kind, target_id),
        success=FOLLOWED if following else UNFOLLOWED,
        redirect_to=safe_next(request.form.get("next")) or page,
    )
    if done is None:  # no form: a refusal is an error page, never a form again
        abort(400)
    return done


@bp.route("/reports/<int:report_id>", methods=["POST"])
def follow_report(report_id: int) -> Response | tuple[str, int]:
    """Follow a report you may see (one you may not see: 404)."""
    return _done(services.REPORT, report_id, True, url_for("reports.detail", report_id=report_id))


@bp.route("/reports/<int:report_id>/unfollow", methods=["POST"])
def unfollow_report(report_id: int) -> Response | tuple[str, int]:
    """Stop following a report."""
    return _done(services.REPORT, report_id, False, url_for("reports.detail", report_id=report_id))


@bp.route("/components/<int:component_id>", methods=["POST"])
def follow_component(component_id: int) -> Response | tuple[str, int]:
    """Follow a component."""
    page = url_for("components.detail", component_id=component_id)
    return _done(services.COMPONENT, component_id, True, page)


@bp.route("/components/<int:component_id>/unfollow", methods=["POST"])
def unfollow_component(component_id: int) -> Response | tuple[str, int]:
    """Stop following a component."""
    page = url_for("components.detail", component_id=component_id)
    return _done(services.COMPONENT, component_id, False, page)
