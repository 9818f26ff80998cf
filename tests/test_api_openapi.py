"""The OpenAPI document at /api/v1/openapi.json: valid OpenAPI 3.1 (checked by
openapi-spec-validator, a tool we did not write), naming every API route, with bearer
authentication and problem documents for errors."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from app.lifecycle.steps import STEPS


def _spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    spec = _spec(client)
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # raises on an invalid document


def test_the_validator_can_fail(client: FlaskClient) -> None:
    spec = _spec(client)
    spec["paths"]["/api/v1/reports"]["get"]["responses"] = "none"
    try:
        validate(spec)
    except OpenAPIValidationError:
        return
    raise AssertionError("an invalid document passed")


def test_every_api_route_is_documented(app: Flask, client: FlaskClient) -> None:
    documented = {
        (method.upper(), path)
        for path, item in _spec(client)["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "put", "delete")
    }
    served = {
        (method, re.sub(r"<(?:int:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented == served
    assert len([p for p in documented if "/steps/" in p[1]]) == len(STEPS)


def test_bearer_auth_and_problem_documents_are_declared(client: FlaskClient) -> None:
    spec = _spec(client)
    assert spec["security"] == [{"bearerAuth": []}]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]
    body = spec["components"]["schemas"]["SubmitResponseStep"]
    assert "version" in body["required"]
    assert body["additionalProperties"] is False
