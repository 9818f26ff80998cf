"""The renderer's workaround for pydyf's page references
(docs/upstream/pydyf-page-references.md): the same references, kept instead of rebuilt,
and only while the app renders."""

from __future__ import annotations

import io
from pathlib import Path

import pydyf
from pypdf import PdfReader
from weasyprint import HTML

from app.pdf import engine


def _three_pages() -> pydyf.PDF:
    pdf = pydyf.PDF()  # objects 0 (free), 1 (the info), 2 (the page tree)
    for _ in range(3):
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))
    return pdf


def test_kept_page_references_are_pydyfs_own() -> None:
    pdf = _three_pages()
    assert pdf.page_references == (b"3 0 R", b"4 0 R", b"5 0 R")  # pydyf's own
    with engine.cached_page_references():
        assert pdf.page_references == (b"3 0 R", b"4 0 R", b"5 0 R")
        assert pdf.page_references is pdf.page_references  # kept, not rebuilt
        pdf.add_page(pydyf.Dictionary({"Type": "/Page"}))  # a page added after: seen
        assert pdf.page_references == (b"3 0 R", b"4 0 R", b"5 0 R", b"6 0 R")
        assert _three_pages().page_references == (b"3 0 R", b"4 0 R", b"5 0 R")  # per PDF


def test_pydyf_is_put_back_after_rendering() -> None:
    original = pydyf.PDF.__dict__["page_references"]
    with engine.cached_page_references():
        assert pydyf.PDF.__dict__["page_references"] is not original
    assert pydyf.PDF.__dict__["page_references"] is original
    engine.render_in_process("<p>x</p>", Path("static").resolve())
    assert pydyf.PDF.__dict__["page_references"] is original


def _struct_pages(pdf: bytes) -> list[int]:
    """The page number (1-based) of every element of the structure tree, in order."""
    reader = PdfReader(io.BytesIO(pdf))
    numbers = {page.indirect_reference.idnum: n for n, page in enumerate(reader.pages, 1)}
    out: list[int] = []

    def walk(node: object) -> None:
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            for kid in node:
                walk(kid)
        elif isinstance(node, dict):
            if "/Pg" in node:
                out.append(numbers[node.raw_get("/Pg").idnum])
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return out


def test_a_tagged_three_page_pdf_points_each_element_at_its_page() -> None:
    html = (
        '<html lang="en"><title>Three</title><body>'
        '<h1>One</h1><p style="break-after: page">first</p>'
        '<h2>Two</h2><p style="break-after: page">second</p>'
        "<h2>Three</h2><p>third</p></body></html>"
    )
    plain = HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    with engine.cached_page_references():
        kept = HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
    assert len(PdfReader(io.BytesIO(kept)).pages) == 3
    # the document, the heading and its text on page 1, then two on each page
    assert _struct_pages(kept) == _struct_pages(plain)
    assert sorted(set(_struct_pages(kept))) == [1, 2, 3]
