"""The Follow buttons in Chromium (issue 15, "Followers"): the viewer follows report
OIG-12-15 and the FEMA component from their pages with the keyboard alone, each button
turns into its following state ("Unfollow", described as "You get a weekly summary..."), the
preferences page lists both under "What I follow", and Unfollow works from the report's
page and from that list. axe-core finds nothing on the report page, before and after.

Each button is a real <button type="submit"> in a POST form carrying the CSRF token (the
live server checks it): Enter and Space press it, as they press any button."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Component, Follow, Report, User
from tests.browser.conftest import ACCOUNTS, LIVE, axe_violations, describe

FOLLOWED = "You follow it now: each Monday you get a summary of its status changes."
UNFOLLOWED = "You no longer follow it."


def _ids() -> tuple[int, int, int]:
    """OIG-12-15's id, FEMA's and the viewer's."""
    with LIVE["app"].app_context():
        report = db.session.scalar(sa.select(Report.id).where(Report.number == "OIG-12-15"))
        fema = db.session.scalar(sa.select(Component.id).where(Component.abbreviation == "FEMA"))
        viewer = db.session.scalar(sa.select(User.id).where(User.email == ACCOUNTS["viewer"][0]))
        db.session.remove()
    assert report is not None
    assert fema is not None
    assert viewer is not None
    return report, fema, viewer


def _follows(user_id: int) -> list[tuple[int | None, int | None]]:
    with LIVE["app"].app_context():
        rows = db.session.execute(
            sa.select(Follow.report_id, Follow.component_id)
            .where(Follow.user_id == user_id)
            .order_by(Follow.id)
        ).all()
        db.session.remove()
    return [tuple(r) for r in rows]


def _button_form(page: Any, action: str) -> Any:
    """The form posting to `action`, checked to be a real button in a POST form with the
    CSRF token; returns the button."""
    form = page.locator(f'main form[action="{action}"]')
    expect(form).to_have_count(1)
    assert form.get_attribute("method") == "post"
    assert form.locator('input[type="hidden"][name="csrf_token"]').get_attribute("value")
    button = form.locator("button")
    assert button.evaluate("b => [b.tagName, b.type]") == ["BUTTON", "submit"]
    return button


def _press(page: Any, button: Any, key: str) -> None:
    """Press the button with the keyboard: focus it (as Tab would), then the key."""
    button.focus()
    assert page.evaluate("() => document.activeElement.tagName") == "BUTTON"
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_viewer_follows_and_unfollows_with_the_keyboard(sign_in: Any, live_server: str) -> None:
    report_id, fema_id, viewer_id = _ids()
    assert _follows(viewer_id) == []
    page = sign_in("viewer", bypass_csp=True)  # axe is injected into the page
    report_page = f"{live_server}/reports/{report_id}"
    page.goto(report_page)
    follow = _button_form(page, f"/follows/reports/{report_id}")
    expect(follow).to_have_text("Follow")
    expect(follow).to_have_accessible_description("Get a weekly summary of its status changes.")
    violations = axe_violations(page)
    assert violations == [], describe(violations)

    _press(page, follow, "Enter")
    assert page.url == report_page
    expect(page.get_by_role("status")).to_contain_text(FOLLOWED)
    unfollow = _button_form(page, f"/follows/reports/{report_id}/unfollow")
    expect(unfollow).to_have_text("Unfollow")
    expect(unfollow).to_have_accessible_description("You get a weekly summary of its status changes.")
    expect(page.locator(f'main form[action="/follows/reports/{report_id}"]')).to_have_count(0)
    violations = axe_violations(page)  # the following state, with its message
    assert violations == [], describe(violations)
    assert _follows(viewer_id) == [(report_id, None)]

    # the FEMA component, from its page, with Space
    component_page = f"{live_server}/components/{fema_id}"
    page.goto(component_page)
    _press(page, _button_form(page, f"/follows/components/{fema_id}"), "Space")
    assert page.url == component_page
    expect(page.get_by_role("status")).to_contain_text(FOLLOWED)
    expect(_button_form(page, f"/follows/components/{fema_id}/unfollow")).to_have_text("Unfollow")
    assert _follows(viewer_id) == [(report_id, None), (None, fema_id)]

    # both are listed where the account's follows are, each with its own Unfollow
    page.goto(f"{live_server}/account/notifications")
    following = page.locator("main ul").filter(has_text="Report: OIG-12-15")
    expect(following.locator("li")).to_have_text(
        [
            "Report: OIG-12-15 Unfollow OIG-12-15",
            "Component: FEMA: Federal Emergency Management Agency "
            "Unfollow FEMA: Federal Emergency Management Agency",
        ],
        use_inner_text=False,
    )

    # Unfollow on the report's page turns the button back into Follow
    page.goto(report_page)
    _press(page, _button_form(page, f"/follows/reports/{report_id}/unfollow"), "Enter")
    expect(page.get_by_role("status")).to_contain_text(UNFOLLOWED)
    expect(_button_form(page, f"/follows/reports/{report_id}")).to_have_text("Follow")
    assert _follows(viewer_id) == [(None, fema_id)]

    # Unfollow in the list comes back to the list, now empty
    page.goto(f"{live_server}/account/notifications")
    _press(page, _button_form(page, f"/follows/components/{fema_id}/unfollow"), "Enter")
    assert page.url == f"{live_server}/account/notifications"
    expect(page.get_by_role("status")).to_contain_text(UNFOLLOWED)
    expect(page.locator("main")).to_contain_text("You follow nothing yet.")
    assert _follows(viewer_id) == []
