"""Friendly error pages: never a traceback, never half-saved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.extensions import db
from app.models import Report
from config import TestingConfig
from tests.conftest import login


def test_404_page(as_role) -> None:
    response = as_role("viewer").get("/reports/123456")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page
    assert "Traceback" not in page
    assert as_role("viewer").get("/no/such/page").status_code == 404


def test_405_is_friendly(as_role) -> None:
    response = as_role("oig").get("/logout")
    assert response.status_code == 405


def test_413_page_for_a_too_large_request(app: Flask, as_role) -> None:
    client = as_role("oig")
    original = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post("/reports/new", data={"title": "x" * 4096})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = original
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_500_page_rolls_back_and_hides_the_traceback(database_url: str) -> None:
    config = TestingConfig(database_url)
    config.PROPAGATE_EXCEPTIONS = False
    broken = create_app(config)

    @broken.route("/boom")
    def boom() -> str:
        db.session.add(Report(title="Half-saved report", issued_on=sa.func.current_date()))
        db.session.flush()
        raise RuntimeError("secret internal detail")

    client = broken.test_client()
    login(client, "oig")
    response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "secret internal detail" not in page
    assert db.session.scalar(sa.select(Report).where(Report.title == "Half-saved report")) is None


@pytest.mark.parametrize("code", [400, 403, 404, 409, 413, 429, 500])
def test_every_error_page_has_a_title_and_a_way_home(app: Flask, code: int) -> None:
    from app.errors import render_error

    client = app.test_client()
    login(client, "viewer")
    with app.test_request_context():
        body, status = render_error(code)
    assert status == code
    assert "<h1>" in body
    assert "RecTrack home" in body or "Sign in" in body


HUGE = "9" * 30


@pytest.mark.parametrize(
    "url",
    [
        f"/reports/{HUGE}",
        f"/recommendations/{HUGE}",
        f"/components/{HUGE}",
        "/reports/2147483648",
    ],
)
def test_an_id_beyond_the_columns_range_is_not_found(as_role, url: str) -> None:
    assert as_role("oig").get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/recommendations?year=10000",
        "/recommendations?year=-1",
        "/recommendations?year=0",
        f"/recommendations?component={HUGE}",
        f"/recommendations?report={HUGE}",
        "/reports?year=10000",
        f"/reports?component={HUGE}",
        f"/reports?page={HUGE}",
        f"/admin/audit?page={HUGE}",
        "/recommendations/export.csv?year=10000",
        "/recommendations/status.pdf?year=10000",
    ],
)
def test_a_number_out_of_range_in_the_query_is_a_clear_400(as_role, url: str) -> None:
    response = as_role("admin").get(url)
    assert response.status_code == 400, url
    assert "must be a whole number from" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/recommendations?endpoint=x", "/recommendations?_scheme=https", "/recommendations?_method=POST"]
)
def test_query_arguments_named_like_url_for_options_are_harmless(as_role, url: str) -> None:
    response = as_role("oig").get(url)
    assert response.status_code == 200
    assert "/recommendations/export.csv?" in response.get_data(as_text=True)
