"""The open-data pages, readable without signing in (app.PUBLIC_ENDPOINTS): the list of
files, the data dictionary and the two downloads. Every download that sends the file is
an audit event (a 304 answer to a client that already holds it, or a HEAD, sends none)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from werkzeug.wrappers import Response

from app import storage
from app.extensions import db
from app.opendata import services
from app.opendata.fields import FIELDS, OVERSIGHT
from app.web import note_access

bp = Blueprint("opendata", __name__)


@bp.route("/open-data")
def index() -> str:
    """The published files, with their date and size; or a note that none is built yet."""
    files = services.published(db.session)
    return render_template("opendata/index.html", files=files, size=services.human_size)


@bp.route("/open-data/dictionary")
def dictionary() -> str:
    """What each field of the files means."""
    files = services.published(db.session)
    return render_template(
        "opendata/dictionary.html", fields=FIELDS, oversight=OVERSIGHT, latest=files[0] if files else None
    )


def _send(name: str) -> Response:
    entry = services.published_file(db.session, name)
    data = None if entry is None else storage.blob_store(current_app.config).get(db.session, entry.sha256)
    if entry is None or data is None:
        abort(404)
    response = Response(data, content_type=entry.content_type)
    stem, _, extension = name.rpartition(".")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="rectrack-{stem}-{entry.as_of.isoformat()}.{extension}"'
    )
    response.headers["Cache-Control"] = "no-cache"  # public: keep a copy, ask again (ETag)
    response.set_etag(entry.sha256)
    response.last_modified = entry.generated_at
    response = response.make_conditional(request)
    if response.status_code == 200 and request.method == "GET":  # a HEAD sends no file
        note_access(services.DOWNLOAD_ACTION, details=services.details(entry))
    return response


@bp.route("/open-data/recommendations.csv")
def csv_file() -> Response:
    """The newest CSV file of public recommendations."""
    return _send(services.CSV_NAME)


@bp.route("/open-data/recommendations.json")
def json_file() -> Response:
    """The newest JSON file of public recommendations."""
    return _send(services.JSON_NAME)
