"""Every PDF and export shows, for each role, exactly the recommendations (and the
"Restricted: not available" placeholder lines) that the page it comes from shows.

Pages and outputs are read the way a person reads them (the HTML, the PDF's text and
its named destinations, the CSV and XLSX cells), never through the code that made them.
"""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from app import audit, clock
from app.extensions import db
from app.models import Component, Concurrence, Recommendation, Report, Sensitivity
from app.recommendations import services as rec_services
from tests.conftest import report_by_number

ROLES = ("admin", "oig", "liaison", "fema", "viewer")
PAGE_PLACEHOLDER = "Restricted: not available in this view."
OUTPUT_PLACEHOLDER = "Restricted: not available in this version."
NO_NUMBER = "Number not known"  # how a report without a number is named on pages

Listing = dict[int, bool]  # recommendation id -> shown as a placeholder line


def _add_restricted(report_number: str, number: int, components: tuple[str, ...]) -> None:
    """A restricted recommendation entered as OIG staff enter one (with its history)."""
    ids = {c.abbreviation: c.id for c in db.session.scalars(sa.select(Component))}
    data = rec_services.RecommendationData(
        number=number,
        text=f"PARITY-RESTRICTED {report_number} #{number}",
        sensitivity=Sensitivity.RESTRICTED,
        addressees=[
            rec_services.AddresseeData(component_id=ids[abbr], is_lead=i == 0, concurrence=Concurrence.CONCUR)
            for i, abbr in enumerate(components)
        ],
    )
    rec_services.create_recommendation(
        db.session,
        audit.AuditActor.system("tests"),
        report_by_number(report_number),
        data,
        today=clock.today(),
    )


@pytest.fixture
def keys() -> dict[tuple[str, int], int]:
    """Besides the fixtures' TEST-R-1 #1 (I&A) and #2 (FEMA): restricted recommendations
    in the public OIG-12-15 for FEMA alone and for both I&A and FEMA, and one for both in
    TEST-R-1. Returns each recommendation's id by (report as named on pages, number)."""
    _add_restricted("OIG-12-15", 7, ("FEMA",))
    _add_restricted("OIG-12-15", 8, ("I&A", "FEMA"))
    _add_restricted("TEST-R-1", 3, ("I&A", "FEMA"))
    db.session.commit()
    rows = db.session.execute(sa.select(Report.number, Recommendation.number, Recommendation.id).join(Report))
    out = {(report or NO_NUMBER, number): rec_id for report, number, rec_id in rows}
    assert len(out) == db.session.scalar(sa.select(sa.func.count(Recommendation.id)))  # unambiguous
    return out


def _component_id(abbreviation: str) -> int:
    return db.session.scalar(sa.select(Component.id).where(Component.abbreviation == abbreviation))


def _report_id(number: str) -> int:
    return db.session.scalar(sa.select(Report.id).where(Report.number == number))


def _add(listing: Listing, rec_id: int, placeholder: bool) -> None:
    """One recommendation is either shown or a placeholder, never both."""
    assert listing.get(rec_id, placeholder) == placeholder, f"recommendation {rec_id} shown both ways"
    listing[rec_id] = placeholder


def _strip(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- reading the pages --------------------------------------------------------------

SECTION = re.compile(r'<section class="rt-rec[^"]*" id="rec-(\d+)".*?</section>', re.S)
ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
ROW_HEADER = re.compile(r'<th scope="row"[^>]*>(.*?)</th>', re.S)
NEXT_PAGE = re.compile(r'<a href="([^"]+)" class="usa-pagination__link usa-pagination__next-page"')


def _report_page(body: str, report_number: str, keys: dict[tuple[str, int], int]) -> Listing:
    """A report page: one section per recommendation, with a link to it or a placeholder."""
    listing: Listing = {}
    for section in SECTION.finditer(body):
        rec_id = keys[(report_number, int(section[1]))]
        placeholder = PAGE_PLACEHOLDER in section[0]
        assert (f'href="/recommendations/{rec_id}"' in section[0]) != placeholder
        _add(listing, rec_id, placeholder)
    return listing


def _table_pages(client: FlaskClient, url: str, keys: dict[tuple[str, int], int]) -> Listing:
    """A list or component page, following "Next" to the last page: one table row per
    recommendation, named "REPORT #N", with a link to it or a placeholder."""
    listing: Listing = {}
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        tbody = body.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in body else ""
        for row in ROW.findall(tbody):
            name = re.match(r"(.+?) #(\d+)\b", _strip(ROW_HEADER.search(row)[1]))
            assert name, row
            rec_id = keys[(name[1], int(name[2]))]
            placeholder = PAGE_PLACEHOLDER in row
            assert (f'href="/recommendations/{rec_id}"' in row) != placeholder
            _add(listing, rec_id, placeholder)
        following = NEXT_PAGE.search(body)
        url = html.unescape(following[1]) if following else ""
        pages += 1
        assert pages < 20
    return listing


# --- reading the outputs ------------------------------------------------------------

HEADING = re.compile(r"Recommendation (\d+) · ")


def _pdf(body: bytes) -> tuple[Listing, str]:
    """The recommendations of a status PDF and its text. Each entry has a named
    destination rec-<id> and a heading "Recommendation N · status"; a placeholder line
    belongs to the heading before it. Destinations and headings are paired in reading
    order, and each pair must agree on the number."""
    reader = PdfReader(io.BytesIO(body))
    anchors = []
    for name, dest in reader.named_destinations.items():
        if found := re.fullmatch(r"rec-(\d+)", name):
            anchors.append((reader.get_destination_page_number(dest), -float(dest["/Top"]), int(found[1])))
    ids = [rec_id for *_, rec_id in sorted(anchors)]
    text = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
    marks = sorted(
        [(m.start(), int(m[1])) for m in HEADING.finditer(text)]
        + [(m.start(), 0) for m in re.finditer(re.escape(OUTPUT_PLACEHOLDER), text)]
    )
    entries: list[list[Any]] = []
    for _, number in marks:
        if number:
            entries.append([number, False])
        else:
            assert entries, "a placeholder line before any heading"
            assert not entries[-1][1], "two placeholder lines under one heading"
            entries[-1][1] = True
    assert len(entries) == len(ids), (entries, ids)
    numbers = dict(db.session.execute(sa.select(Recommendation.id, Recommendation.number)).all())
    listing: Listing = {}
    for (number, placeholder), rec_id in zip(entries, ids, strict=True):
        assert numbers[rec_id] == number, (rec_id, number)
        _add(listing, rec_id, placeholder)
    return listing, text


def _sheet_rows(rows: list[dict[str, Any]], keys: dict[tuple[str, int], int]) -> Listing:
    """Export rows (one per recommendation and component; a placeholder row once; a row
    with no recommendation number is a report with none entered)."""
    listing: Listing = {}
    for row in rows:
        if row["rec_number"] in (None, ""):
            continue
        rec_id = keys[(row["report_number"] or NO_NUMBER, int(row["rec_number"]))]
        _add(listing, rec_id, row["rec_text"] == OUTPUT_PLACEHOLDER)
    return listing


def _csv(body: str, keys: dict[tuple[str, int], int]) -> Listing:
    return _sheet_rows(list(csv.DictReader(io.StringIO(body.lstrip("\ufeff")))), keys)


def _xlsx(body: bytes, keys: dict[tuple[str, int], int]) -> Listing:
    sheet = load_workbook(io.BytesIO(body), read_only=True)["Recommendations"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    return _sheet_rows([dict(zip(header, row, strict=True)) for row in rows], keys)


def _get(client: FlaskClient, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


# --- the comparisons ----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_report_pdf_lists_what_the_report_page_lists(role: str, as_role, keys) -> None:
    client = as_role(role)
    for number in ("OIG-12-15", "TEST-R-1"):
        report_id = _report_id(number)
        page = client.get(f"/reports/{report_id}")
        pdf = client.get(f"/reports/{report_id}/status.pdf")
        assert pdf.status_code == page.status_code, (number, page.status_code, pdf.status_code)
        if page.status_code != 200:
            assert (role, number) == ("viewer", "TEST-R-1")
            continue
        shown = _report_page(page.get_data(as_text=True), number, keys)
        in_pdf, text = _pdf(pdf.data)
        assert in_pdf == shown, number
        assert re.search(rf"\bTotal {len(shown)}\b", text)


# What each reader's component page lists (none of them as a placeholder): the public
# recommendations addressed to the component, and the restricted ones the reader may read.
PUBLIC = {
    "FEMA": {("OIG-12-15", 3)},
    "I&A": {("OIG-12-15", n) for n in (1, 2, 3, 4)} | {(NO_NUMBER, 1)},
}
RESTRICTED = {  # restricted recommendation -> components it is addressed to
    ("TEST-R-1", 1): {"I&A"},
    ("TEST-R-1", 2): {"FEMA"},
    ("TEST-R-1", 3): {"I&A", "FEMA"},
    ("OIG-12-15", 7): {"FEMA"},
    ("OIG-12-15", 8): {"I&A", "FEMA"},
}
READS: dict[str, set[str]] = {  # role -> components whose restricted recommendations it reads
    "admin": {"I&A", "FEMA"},
    "oig": {"I&A", "FEMA"},
    "liaison": {"I&A"},
    "fema": {"FEMA"},
    "viewer": set(),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("component", ["FEMA", "I&A"])
def test_component_pdf_lists_what_the_component_page_lists(
    role: str, component: str, app: Flask, as_role, keys, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)  # the page is read across its pages
    client = as_role(role)
    component_id = _component_id(component)
    shown = _table_pages(client, f"/components/{component_id}", keys)
    expected = PUBLIC[component] | {
        key for key, addressed in RESTRICTED.items() if component in addressed and addressed & READS[role]
    }
    assert shown == {keys[key]: False for key in expected}
    in_pdf, text = _pdf(_get(client, f"/components/{component_id}/status.pdf").data)
    assert in_pdf == shown
    assert re.search(rf"\bTotal {len(shown)}\b", text)
    for (report, number), addressed in RESTRICTED.items():
        if not addressed & READS[role]:
            assert f"PARITY-RESTRICTED {report} #{number}" not in text


LIST_FILTERS = (
    "",
    "status=open",
    "component={FEMA}",
    "component={I&A}",
    "report={OIG-12-15}",
    "report={TEST-R-1}",
    "component={FEMA}&report={TEST-R-1}",
)


@pytest.mark.parametrize("role", ROLES)
def test_list_pdf_and_exports_list_what_the_list_page_lists(
    role: str, app: Flask, as_role, keys, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    client = as_role(role)
    names = {"FEMA": _component_id("FEMA"), "I&A": _component_id("I&A")}
    names |= {n: _report_id(n) for n in ("OIG-12-15", "TEST-R-1")}
    for template in LIST_FILTERS:
        query = re.sub(r"\{([^}]+)\}", lambda m: str(names[m[1]]), template)
        shown = _table_pages(client, f"/recommendations?{query}", keys)
        assert _pdf(_get(client, f"/recommendations/status.pdf?{query}").data)[0] == shown, template
        csv_text = _get(client, f"/recommendations/export.csv?{query}").get_data(as_text=True)
        assert _csv(csv_text, keys) == shown, template
        assert _xlsx(_get(client, f"/recommendations/export.xlsx?{query}").data, keys) == shown, template
        if role == "viewer" and not template:
            placeholders = {keys[("OIG-12-15", 7)], keys[("OIG-12-15", 8)]}
            assert {rec_id for rec_id, p in shown.items() if p} == placeholders
