"""The JSON API under /api/v1 (issue 16), built with flask-smorest: a Flask blueprint
and marshmallow schemas that write the OpenAPI 3.1 document (/api/v1/openapi.json).
A human-readable list of its operations is at /api/v1/docs (app/api/docs.py)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Flask
from flask_smorest import Api

from app.api import problems

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SECURITY_SCHEME = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "A personal access token"}
}


class RecTrackApi(Api):
    """flask-smorest's Api, with RecTrack's errors: app/errors.py answers every error of
    a request under /api with a problem document (so no handler is registered here), and
    the spec documents that answer."""

    ERROR_SCHEMA: Any = None  # set in init_app (the schemas import the models)

    def _register_error_handlers(self) -> None:
        """None: app/errors.py handles /api errors (unknown paths included)."""

    def _register_responses(self) -> None:
        for status in HTTPStatus:
            if status < 400:
                continue
            self.spec.components.response(
                status.name,
                {
                    "description": status.phrase,
                    "content": {problems.MEDIA_TYPE: {"schema": PROBLEM_REF}},
                },
                lazy=True,
            )
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "A problem document (RFC 9457)",
                "content": {problems.MEDIA_TYPE: {"schema": PROBLEM_REF}},
            },
            lazy=True,
        )


def init_app(app: Flask) -> None:
    """The API's blueprint, its OpenAPI document, its docs page and its rate limiter."""
    from app.api import auth, docs, schemas, views

    app.config.update(
        API_TITLE="RecTrack API",
        API_VERSION="1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "RecTrack's reports and recommendations. Authenticate every "
                "request with a personal access token (Authorization: Bearer <token>), made "
                "on your account page. Errors are RFC 9457 problem documents."
            },
            "servers": [{"url": "/"}],
            "security": [{"bearerAuth": []}],
            "components": {"securitySchemes": SECURITY_SCHEME},
        },
    )
    api = RecTrackApi()
    api.init_app(app)
    api.register_field(schemas.Money, "string", "decimal")
    api.spec.components.schema("Problem", schema=schemas.ProblemSchema)
    api.register_blueprint(views.bp)
    app.register_blueprint(docs.bp)
    auth.init_app(app)
    app.extensions["rectrack_api"] = api
