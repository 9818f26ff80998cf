"""From the e-mail to a saved update, in Chromium (issue 15, "From e-mail to done").

An administrator creates a new FEMA liaison account on the admin page; the liaison signs
in and sets a daily digest; the scheduler's next run (`flask notify run`, the app's
frozen today) delivers one digest to a real SMTP server on loopback, listing FEMA's due
items and no restricted text; the liaison follows the digest's link, signs in, lands on
the update form, and "No change since the last update" (click 1), a short note, "Save"
(click 2) saves an update: in the database and on the page.

Data this test adds to the live server's database (the seed has no restricted report and
no Open–Resolved FEMA part): TEST-B-1 #1, public, FEMA's response accepted and resolved 80
days before today, so its next update is due in 10 days (within the digest's 14-day
look-ahead); TEST-RB-1, restricted, #1 addressed to FEMA and #2 to I&A, responses overdue."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from sqlalchemy.orm import selectinload

from app import audit, clock
from app.extensions import db
from app.lifecycle import history, queries, steps, workflow
from app.lifecycle.clocks import long_date
from app.models import (
    Addressee,
    Component,
    Concurrence,
    DigestFrequency,
    EventKind,
    MailPreference,
    Recommendation,
    RecommendationEvent,
    Report,
    ReportType,
    Sensitivity,
    TextSource,
    User,
)
from tests.browser.conftest import ACCOUNTS, LIVE, axe_violations, describe
from tests.mailserver import MailServer

NEW_EMAIL = "new.fema.liaison@browser.example"
NEW_PASSWORD = "a new liaison's long passphrase"
CHOSEN_PASSWORD = "amber quarry lighthouse sonnet 7"  # the liaison's own
PUBLIC_TEXT = "Publish the emergency operations center contact list every quarter (browser test)."
RESTRICTED_TEXTS = (
    "SYNTHETIC-RESTRICTED-BROWSER-FEMA: protected site list for the mail test.",
    "SYNTHETIC-RESTRICTED-BROWSER-IA: protected source list for the mail test.",
)
NOTE = "Quarterly list unchanged; next review in January."


def _user(email: str) -> User:
    user = db.session.scalar(
        sa.select(User).where(User.email == email).options(selectinload(User.components))
    )
    assert user is not None, email
    return user


def _add_data(today: date) -> int:
    """The two reports; FEMA's public part responded and resolved 80 days ago. Returns the
    id of that part."""
    session = db.session
    audit.set_actor(session, audit.AuditActor.system("browser test: mail to update"))
    comps = {c.abbreviation: c for c in session.scalars(sa.select(Component))}
    issued = today - timedelta(days=200)
    public = Report(
        number="TEST-B-1",
        title="Synthetic public report (browser mail test)",
        issued_on=issued,
        report_type=ReportType.AUDIT,
        sensitivity=Sensitivity.PUBLIC,
        components=[comps["FEMA"]],
    )
    public.recommendations.append(
        Recommendation(
            number=1,
            text=PUBLIC_TEXT,
            text_source=TextSource.VERBATIM,
            sensitivity=Sensitivity.PUBLIC,
            tracked_since=issued,
            addressees=[Addressee(component=comps["FEMA"], is_lead=True, concurrence=Concurrence.CONCUR)],
        )
    )
    restricted = Report(
        number="TEST-RB-1",
        title="Synthetic restricted report (browser mail test)",
        issued_on=issued,
        report_type=ReportType.AUDIT,
        sensitivity=Sensitivity.RESTRICTED,
        components=[comps["FEMA"], comps["I&A"]],
    )
    for number, (abbr, text) in enumerate(zip(("FEMA", "I&A"), RESTRICTED_TEXTS, strict=True), start=1):
        restricted.recommendations.append(
            Recommendation(
                number=number,
                text=text,
                text_source=TextSource.VERBATIM,
                sensitivity=Sensitivity.RESTRICTED,
                tracked_since=issued,
                addressees=[Addressee(component=comps[abbr], is_lead=True, concurrence=Concurrence.CONCUR)],
            )
        )
    session.add_all([public, restricted])
    session.flush()
    for rec in [*public.recommendations, *restricted.recommendations]:
        history.record_issuance(session, rec, audit.AuditActor.system("browser test: mail to update"))
    session.flush()
    rec_id = public.recommendations[0].id
    resolved_on = today - timedelta(days=80)
    fema, oig = _user(ACCOUNTS["fema"][0]), _user(ACCOUNTS["oig"][0])
    rec = session.scalar(queries.lifecycle_detail(rec_id))
    workflow.take(
        session,
        workflow.Context(user=fema, today=resolved_on),
        "submit_response",
        rec,
        rec.addressees[0],
        steps.ResponseData(
            concurrence="concur",
            response="FEMA concurs.",
            corrective_action_plan="Publish the list each quarter.",
            target_date=today + timedelta(days=200),
            responsible_official="Director, Response Directorate",
        ),
    )
    workflow.take(
        session, workflow.Context(user=oig, today=resolved_on), "resolve", rec, None, steps.NoteData()
    )
    session.commit()
    return int(rec.addressees[0].id)


@pytest.fixture
def mail_setup(live_server: str) -> Any:
    """A real SMTP server on loopback; the live app mails through it, with links to itself."""
    app = LIVE["app"]
    server = MailServer()
    server.start()
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "MAIL_BASE_URL")}
    app.config.update(
        MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, MAIL_BASE_URL=live_server
    )
    try:
        yield app, server
    finally:
        app.config.update(saved)
        server.stop()


def test_from_the_digest_to_a_saved_no_change_update_in_two_clicks(
    sign_in: Any, browser: Any, live_server: str, mail_setup: Any
) -> None:
    app, smtp = mail_setup
    today = clock.today()
    with app.app_context():
        part_id = _add_data(today)
        db.session.remove()

    # An administrator creates the account on the admin page.
    admin = sign_in("admin")
    admin.goto(f"{live_server}/admin/users/new")
    admin.fill("#email", NEW_EMAIL)
    admin.fill("#display_name", "New FEMA Liaison")
    admin.select_option("#role", "liaison")
    admin.click("label:has-text('FEMA: Federal Emergency Management Agency')")
    admin.fill("#password", NEW_PASSWORD)
    admin.click("main button:has-text('Create account')")
    expect(admin.locator(".usa-alert--success").first).to_contain_text(f"Account {NEW_EMAIL} was created")

    # The new liaison signs in and chooses a daily digest.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("#email", NEW_EMAIL)
        page.fill("#password", NEW_PASSWORD)
        page.click("main button[type=submit]")
        # the administrator's password is temporary: the first sign-in changes it
        page.wait_for_url(f"{live_server}/account/password")
        page.fill("#current_password", NEW_PASSWORD)
        page.fill("#password", CHOSEN_PASSWORD)
        page.fill("#confirm", CHOSEN_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/account/notifications")
        page.click("label:has-text('Every day something is due')")
        page.click("main button[type=submit]")
        expect(page.locator(".usa-alert--success").first).to_contain_text("preferences were saved")
        with app.app_context():
            pref = db.session.scalar(
                sa.select(MailPreference).where(MailPreference.user_id == _user(NEW_EMAIL).id)
            )
            assert pref is not None
            assert pref.digest == DigestFrequency.DAILY
            db.session.remove()
        context.close()
        # The mail is read later, in a browser not signed in: the link meets the sign-in page.
        # (bypass_csp: axe-core is injected into the short form's page below.)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(15000)

        # The scheduler's next run, on the app's today, through the SMTP server.
        result = app.test_cli_runner().invoke(args=["notify", "run"])
        assert result.exit_code == 0, result.output
        [message] = smtp.to(NEW_EMAIL)
        body = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert message["Subject"].startswith("RecTrack digest:")
        update_due = today + timedelta(days=10)  # resolved 80 days ago, 90-day interval
        assert f"TEST-B-1 #1 (FEMA): Update due {long_date(update_due)}" in body
        assert "TEST-RB-1 #1 (FEMA): Response was due" in body  # FEMA's restricted part, by its name only
        assert "TEST-RB-1 #2" not in body + html  # I&A's part
        with app.app_context():
            restricted = db.session.scalars(
                sa.select(Recommendation.text).where(Recommendation.sensitivity == Sensitivity.RESTRICTED)
            ).all()
            db.session.remove()
        assert set(RESTRICTED_TEXTS) <= set(restricted)
        for text in restricted:
            assert text not in body
            assert text not in html
        found = re.search(r'<a href="([^"]+)">TEST-B-1 #1 \(FEMA\)</a>', html)
        assert found is not None, html
        link = html_lib.unescape(found.group(1))
        assert link.startswith(live_server)
        assert link in body
        assert link.endswith(f"/components/{part_id}/update")

        # The link, the sign-in page, and back to the very form.
        page.goto(link)
        assert page.url.startswith(f"{live_server}/login?next=")
        page.fill("#email", NEW_EMAIL)
        page.fill("#password", CHOSEN_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(link)

        clicks = 0

        def click(selector: str) -> None:
            nonlocal clicks
            clicks += 1
            page.click(selector)

        click("main a:has-text('No change since the last update')")
        expect(page.locator("main h2", has_text="No change since the last update")).to_be_visible()
        violations = axe_violations(page)
        assert violations == [], describe(violations)
        page.fill("#no_change_note", NOTE)
        click("main button:has-text('Save')")
        expect(page.locator(".usa-alert--success").first).to_contain_text("The progress update was posted.")
        assert clicks == 2
        expect(page.locator("main")).to_contain_text("Progress update: no change since the last update")
        expect(page.locator("main")).to_contain_text(NOTE)
    finally:
        context.close()

    with app.app_context():
        new_user = _user(NEW_EMAIL)
        event = db.session.scalar(
            sa.select(RecommendationEvent).where(
                RecommendationEvent.addressee_id == part_id,
                RecommendationEvent.kind == EventKind.UPDATE_POSTED,
            )
        )
        assert event is not None
        assert event.note == NOTE
        assert event.details.get("no_change") is True
        assert event.effective_on == today
        assert (event.actor_id, event.actor_label) == (new_user.id, NEW_EMAIL)
        part = db.session.get(Addressee, part_id)
        assert part is not None
        assert part.last_update_on == today
        assert part.update_due == today + timedelta(days=90)
        assert part.target_date == today + timedelta(days=200)  # kept
        db.session.remove()
