"""The home page."""

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

bp = Blueprint("main", __name__)


@bp.route("/")
def index() -> Response:
    """Home: the reports list for now."""
    return redirect(url_for("reports.index"))
