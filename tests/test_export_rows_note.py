"""Beside the export buttons, the list says why the files can have more rows than it
lists: one row per component addressed, and one per report with nothing entered."""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import visible_text

NOTE = "The CSV and Excel files have one row per component addressed"
EMPTY_REPORTS = "and one for each report with no recommendations entered yet"


def _rows(client, query: str = "") -> list[dict[str, str]]:
    body = client.get(f"/recommendations/export.csv?{query}").get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(body)))


def _listed(text: str) -> int:
    return int(re.search(r"([\d,]+) recommendations? match", text).group(1).replace(",", ""))


def test_unfiltered_list_explains_the_extra_rows(as_role) -> None:
    client = as_role("viewer")
    text = visible_text(client.get("/recommendations"))
    assert NOTE in text
    assert EMPTY_REPORTS in text
    assert text.index("Download CSV") < text.index(NOTE) < text.index("recommendations match")
    # what the note says is what the file holds (the seed, as a viewer sees it)
    rows = _rows(client)
    with_recs = [r for r in rows if r["rec_number"]]
    empty = [r for r in rows if not r["rec_number"]]
    assert len(rows) > _listed(text)
    assert len({(r["report_number"], r["report_title"], r["rec_number"]) for r in with_recs}) == _listed(text)
    assert len(with_recs) == sum(1 for r in with_recs if r["component"])  # one per component
    assert {r["report_number"] for r in empty} == {"OIG-08-71", "OIG-22-29"}  # nothing entered yet


def test_a_narrowed_list_leaves_out_the_empty_reports(as_role) -> None:
    client = as_role("viewer")
    text = visible_text(client.get("/recommendations?status=open"))
    assert NOTE in text
    assert EMPTY_REPORTS not in text
    assert all(r["rec_number"] for r in _rows(client, "status=open"))
