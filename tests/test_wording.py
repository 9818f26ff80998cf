"""Counted nouns read right for one and for many ("1 response overdue", not "1 responses
overdue"), through the one helper in app/wording.py, in pages, PDFs and messages."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from app import wording
from app.extensions import db
from app.lifecycle import workflow
from app.lifecycle.clocks import Clock
from app.lifecycle.workflow import Context, ResponseData
from app.models import Concurrence
from tests.conftest import EMAILS, rec, user_by_email, visible_text


@pytest.mark.parametrize(
    ("n", "singular", "plural", "noun", "counted"),
    [
        (0, "response", None, "responses", "0 responses"),
        (1, "response", None, "response", "1 response"),
        (2, "response", None, "responses", "2 responses"),
        (1234, "row", None, "rows", "1,234 rows"),
        (1, "is", "are", "is", "1 is"),
        (3, "is", "are", "are", "3 are"),
        (1, "matches", "match", "matches", "1 matches"),
        (1, "history event", None, "history event", "1 history event"),
    ],
)
def test_noun_and_count(n: int, singular: str, plural: str | None, noun: str, counted: str) -> None:
    assert wording.noun(n, singular, plural) == noun
    assert wording.count(n, singular, plural) == counted


def _card(client, abbreviation: str) -> str:
    text = visible_text(client.get("/"))
    start = text.index(f"Your components {abbreviation}")
    return text[start : text.index("portfolio", start)]


def test_liaison_card_counts_one_response_overdue(as_role, today) -> None:
    client = as_role("fema")
    assert "2 responses overdue" in _card(client, "FEMA")
    cpg = rec("OIG-12-15", 3)
    fema = next(a for a in cpg.addressees if a.component.abbreviation == "FEMA")
    workflow.submit_response(
        db.session,
        Context(user_by_email(EMAILS["fema"]), today),
        cpg,
        fema,
        ResponseData(
            Concurrence.CONCUR, "FEMA concurs.", "Revise CPG-502.", today + timedelta(days=200), "Director"
        ),
    )
    db.session.commit()
    card = _card(client, "FEMA")
    assert "1 response overdue" in card
    assert "0 past their target date" in card
    assert "0 updates overdue" in card


def test_a_one_row_import_says_one_row(as_role) -> None:
    data = (
        b"report_number,report_title,report_issued_on\r\n"
        b"OIG-99-02,A synthetic one-row report (test),2024-05-01\r\n"
    )
    response = as_role("oig").post(
        "/import", data={"file": (io.BytesIO(data), "one.csv")}, content_type="multipart/form-data"
    )
    assert "1 row checked. Nothing has been saved yet." in visible_text(response)


def test_one_recommendation_in_the_list_matches(as_role) -> None:
    text = visible_text(as_role("viewer").get("/recommendations?q=CPG-502"))
    assert re.search(r"\b1 recommendation matches; showing 1\b", text)


@pytest.mark.parametrize(
    ("days", "text"), [(-1, "overdue by 1 day"), (-2, "overdue by 2 days"), (1000, "due in 1,000 days")]
)
def test_clock_texts_count_days(today, days: int, text: str) -> None:
    clock = Clock("Response", today + timedelta(days=days), today)
    assert clock.text == f"Response {text}"
