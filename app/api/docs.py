"""The API's docs page: its operations, read from the OpenAPI document, on a page of
the app's own (no documentation UI from a CDN)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from app.api import problems

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each operation of the document: method, path, summary, description, parameters,
    body fields and answers."""
    out = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = (
                (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema", {})
            )
            out.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": [p.get("name") for p in op.get("parameters", []) if p.get("in") == "query"],
                    "body": _schema_name(body),
                    "responses": sorted(op.get("responses", {})),
                }
            )
    return out


def _schema_name(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else ""


@bp.route("/docs")
def docs() -> str:
    """How to call the API, and every operation it has."""
    spec = current_app.extensions["rectrack_api"].spec.to_dict()
    return render_template(
        "api/docs.html",
        operations=operations(spec),
        schemas=spec.get("components", {}).get("schemas", {}),
        problem_statuses=sorted(problems.DETAILS.items()),
    )
