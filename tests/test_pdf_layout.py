"""Page breaks and long words in the status PDFs, read from WeasyPrint's laid-out pages:
a heading never ends a page without what follows it, a short recommendation is never
split between two pages, and a long unbroken word stays inside the page."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from weasyprint import HTML

from app import clock
from app.demo.generator import generate
from app.extensions import db
from app.models import Addressee, Component, Report
from app.pdf import engine, services
from app.pdf.options import settings
from tests.conftest import EMAILS, report_by_number, user_by_email


def _pages(app: Flask, request: services.PdfRequest) -> tuple[list[Any], float]:
    """The laid-out pages of a PDF made for OIG staff, and a page's content height."""
    with app.test_request_context():
        conf = settings()
        html = services.build_html(db.session, user_by_email(EMAILS["oig"]), request, conf)
        static_root = Path(conf.static_root).resolve()
    document = HTML(
        string=html, base_url=static_root.as_uri() + "/", url_fetcher=engine.StaticOnlyFetcher(static_root)
    ).render()
    return document.pages, document.pages[0]._page_box.height


def _where(pages: list[Any]) -> tuple[dict[int, set[int]], dict[int, float], list[Any]]:
    """For every element: the pages it is laid out on and its height summed over them;
    and the elements in document order."""
    on_pages: dict[int, set[int]] = defaultdict(set)
    height: dict[int, float] = defaultdict(float)
    order: list[Any] = []
    for number, page in enumerate(pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or type(box).__name__ != "BlockBox":
                continue
            if id(element) not in on_pages:
                order.append(element)
            on_pages[id(element)].add(number)
            height[id(element)] += box.margin_height()
    return on_pages, height, order


def _classes(element: Any) -> set[str]:
    return set((element.get("class") or "").split())


def _first_page(on_pages: dict[int, set[int]], element: Any) -> int:
    return min(on_pages[id(element)])


@pytest.fixture
def many_recommendations(app: Flask) -> Component:
    """Synthetic reports enough for a component PDF of a dozen pages; its component."""
    generate(
        db.session.connection(), reports=24, recommendations=90, seed=1, today=clock.today(), allow_mixed=True
    )
    db.session.commit()
    busiest = db.session.scalar(
        sa.select(Component)
        .join(Addressee, Addressee.component_id == Component.id)
        .group_by(Component.id)
        .order_by(sa.func.count(Addressee.id).desc(), Component.id)
        .limit(1)
    )
    assert busiest is not None
    return busiest


def test_component_pdf_keeps_headings_with_what_follows_and_short_blocks_whole(
    app: Flask, many_recommendations: Component
) -> None:
    request = services.PdfRequest("component", clock.today(), component=many_recommendations)
    pages, page_height = _pages(app, request)
    assert len(pages) >= 6
    on_pages, height, order = _where(pages)
    recs = [e for e in order if e.tag == "section" and "rec" in _classes(e)]
    assert len(recs) >= 20
    short = [e for e in recs if height[id(e)] <= 0.4 * page_height]
    assert short, "the data should have short recommendations"
    for rec in short:
        assert len(on_pages[id(rec)]) == 1, f"{rec.get('id')} is split"
    for rec in recs:
        heading = rec.find("h3")
        part = next((c for c in rec if "part" in _classes(c)), None)
        if part is not None:
            # a recommendation's heading and text go with its first component's part
            assert _first_page(on_pages, heading) == _first_page(on_pages, part), rec.get("id")
    sections = [e for e in order if e.tag == "h2"]
    for heading in sections:
        following = [e for e in order[order.index(heading) + 1 :] if e.tag in ("p", "section")]
        if following and following[0].tag == "p" and "lead" in _classes(following[0]) and len(following) > 1:
            # a report's heading, the line under it and its first recommendation start together
            assert _first_page(on_pages, heading) == _first_page(on_pages, following[1]), heading.text


def test_a_long_unbroken_word_stays_inside_the_page(app: Flask) -> None:
    report = report_by_number("OIG-12-15")
    report.title = "A" * 500
    report.url = "https://www.oig.dhs.gov/" + "x" * 300
    db.session.commit()
    request = services.PdfRequest("report", clock.today(), report=db.session.get(Report, report.id))
    pages, _ = _pages(app, request)
    for page in pages:
        box = page._page_box
        right = box.content_box_x() + box.width
        text = [b for b in box.descendants() if type(b).__name__ == "TextBox"]
        assert text
        assert not [(b.element_tag, b.text[:20]) for b in text if b.position_x + b.width > right + 0.5]
