"""Closure decisions are made on the forms that show what they decide on: asking again
shows the OIG's reason for returning the last request; closing, or returning a request,
shows each pending request with its justification and evidence."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from app import clock
from tests.conftest import login, rec, submit, visible_text

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _cpg():
    return rec("OIG-12-15", 3)


def _url(abbr: str | None, step: str) -> str:
    cpg = _cpg()
    if abbr is None:
        return f"/recommendations/{cpg.id}/{step}"
    part = next(a for a in cpg.addressees if a.component.abbreviation == abbr)
    return f"/recommendations/{cpg.id}/components/{part.id}/{step}"


def _ok(response) -> None:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def _resolved(app):
    """CPG-502 with FEMA's plan accepted: two signed-in clients, FEMA and OIG staff."""
    fema, oig = app.test_client(), app.test_client()
    login(fema, "fema")
    login(oig, "oig")
    _ok(
        submit(
            fema,
            _url("FEMA", "respond"),
            data={
                "concurrence": "concur",
                "response": "FEMA concurs.",
                "corrective_action_plan": "Send the guidance to every EOC.",
                "target_date": (clock.today() + timedelta(days=200)).isoformat(),
                "responsible_official": "Director, National Preparedness Directorate",
            },
        )
    )
    _ok(submit(oig, _url(None, "resolve"), data={"note": "Responsive."}))
    return fema, oig


def _request(fema, justification: str, filename: str, body: bytes) -> None:
    _ok(
        submit(
            fema,
            _url("FEMA", "request-closure"),
            data={"justification": justification, "documents": (io.BytesIO(body), filename)},
            content_type="multipart/form-data",
        )
    )


def _document_links(html: str) -> dict[str, str]:
    return {name: href for href, name in re.findall(r'href="(/attachments/\d+)">([^<]+)</a>', html)}


def test_asking_again_shows_the_oig_reason_for_returning(app) -> None:
    fema, oig = _resolved(app)
    _request(fema, "Guidance sent to 54 EOCs.", "list.csv", b"eoc\nA\n")
    _ok(submit(oig, _url("FEMA", "return-closure"), data={"reason": "Send the survey results of the EOCs."}))
    form = fema.get(_url("FEMA", "request-closure"))
    assert form.status_code == 200
    text = visible_text(form)
    assert "The OIG returned the last closure request" in text
    assert re.search(r"Returned \w+ \d{1,2}, \d{4}, by oig@test.example \(OIG staff\)\.", text), text
    assert "OIG’s reason: Send the survey results of the EOCs." in text
    assert "What the request said: Guidance sent to 54 EOCs." in text
    assert text.index("Send the survey results") < text.index("Why the recommendation can be closed")


def test_a_first_request_form_shows_no_returned_reason(app) -> None:
    fema, _oig = _resolved(app)
    text = visible_text(fema.get(_url("FEMA", "request-closure")))
    assert "returned the last closure request" not in text
    assert "OIG’s reason" not in text


def test_close_and_return_forms_show_the_request_and_its_evidence(app) -> None:
    fema, oig = _resolved(app)
    # A progress update's document is no closure evidence.
    update = {"text": "Half done.", "documents": (io.BytesIO(b"eoc\nB\n"), "progress.csv")}
    _ok(submit(fema, _url("FEMA", "update"), data=update, content_type="multipart/form-data"))
    _request(fema, "Guidance sent to 54 EOCs.", "distribution-list.csv", b"eoc\nA\n")
    _ok(submit(oig, _url("FEMA", "return-closure"), data={"reason": "Send the survey results."}))
    _request(fema, "Survey of every EOC attached.", "eoc-survey.pdf", PDF)
    ia = app.test_client()
    login(ia, "liaison")
    _ok(submit(ia, _url("I&A", "request-closure"), data={"justification": "I&A is done too."}))
    for step in (_url(None, "close"), _url("FEMA", "return-closure")):
        page = oig.get(step)
        assert page.status_code == 200, step
        html = page.get_data(as_text=True)
        text = visible_text(page)
        assert "FEMA asks to close" in text
        # closing decides on every request; returning one, on that component's only
        assert ("I&A asks to close" in text) == step.endswith("/close")
        assert "Survey of every EOC attached." in text
        links = _document_links(html)
        assert set(links) == {"eoc-survey.pdf", "distribution-list.csv"}
        # the latest request's evidence first; the earlier request's under its own heading
        assert text.index("eoc-survey.pdf") < text.index("Sent with earlier closure requests")
        assert text.index("Sent with earlier closure requests") < text.index("distribution-list.csv")
        assert text.index("FEMA asks to close") < text.index(
            "Decision" if step.endswith("/close") else "Reason"
        )
        # the links are the documents themselves
        assert oig.get(links["eoc-survey.pdf"]).data == PDF


def test_close_form_without_a_request_says_so(as_role) -> None:
    text = visible_text(as_role("oig").get(_url(None, "close")))
    assert "No component has asked to close this recommendation" in text
    assert "only be closed as not implemented" in text
