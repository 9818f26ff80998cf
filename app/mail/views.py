"""E-mail pages: one's own preferences, and the administrators' Outbox (the delivery
log, each user's settings and, in development, the folder's files)."""

from __future__ import annotations

from email import policy as email_policy
from email.parser import BytesHeaderParser
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth import policy
from app.extensions import db
from app.follows import services as follows
from app.mail import outbox, transport
from app.mail import preferences as prefs
from app.mail.forms import PreferencesForm
from app.models import DigestFrequency, NoticeKind, OutboxState
from app.web import save

bp = Blueprint("mail", __name__)


def _filled_form() -> PreferencesForm:
    digest, notices, version = prefs.current(db.session, current_user)
    form = PreferencesForm(formdata=None)
    form.digest.data = digest.value
    form.notices.data = notices
    form.version.data = version
    form.follow_summary.data = prefs.follow_summary_on(db.session, current_user)
    return form


@bp.route("/account/notifications", methods=["GET", "POST"])
def preferences() -> str | Response | tuple[str, int]:
    """Choose the digest frequency and the event notices RecTrack e-mails you."""
    followed = follows.followed_by(db.session, current_user)
    if request.method == "GET":
        return render_template("mail/preferences.html", form=_filled_form(), followed=followed)
    form = PreferencesForm()
    if form.validate_on_submit():
        done = save(
            form,
            lambda: prefs.save(
                db.session,
                current_user,
                DigestFrequency(form.digest.data),
                list(form.notices.data or []),
                version=form.version.data,
                follow_summary=bool(form.follow_summary.data),
            ),
            success="Your e-mail preferences were saved.",
            redirect_to=url_for("mail.preferences"),
            current=_filled_form,
        )
        if done is not None:
            return done
    return render_template("mail/preferences.html", form=form, followed=followed)


def _folder_listing() -> list[dict[str, Any]]:
    parser = BytesHeaderParser(policy=email_policy.default)
    listing = []
    for path in transport.folder_files(current_app.config):
        with path.open("rb") as handle:
            headers = parser.parse(handle)
        listing.append(
            {"name": path.name, "to": headers["To"], "subject": headers["Subject"], "date": headers["Date"]}
        )
    return listing


@bp.route("/admin/outbox")
def outbox_log() -> str:
    """Administrators: every message with its state, permanent failures first to read;
    each account's e-mail settings; in development, the files in the outbox folder."""
    policy.require(policy.is_admin(current_user))
    state_arg = request.args.get("state", "")
    state = OutboxState(state_arg) if state_arg in OutboxState._value2member_map_ else None
    return render_template(
        "mail/outbox.html",
        messages=outbox.delivery_log(db.session, state),
        counts=outbox.state_counts(db.session),
        state=state,
        settings=outbox.everyone_settings(db.session),
        notice_labels={n.value: n.label for n in NoticeKind},
        files=_folder_listing(),
        backend=current_app.config["MAIL_BACKEND"],
    )
