"""The visibility and permission rules of app/auth/policy.py, role by role, written out by
hand: each rule on a public and a restricted recommendation addressed to TWO components
(FEMA and I&A), and the SQL criteria the lists use agreeing with the Python rules.

The components, accounts, reports and recommendations are the test's own
(tests/factories.py), named after the DHS components they stand for."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_login import AnonymousUserMixin
from werkzeug.exceptions import Forbidden

from app.auth import policy
from app.auth.policy import Reader
from app.extensions import db
from app.models import Component, Recommendation, Report, Role, Sensitivity
from tests.factories import login_as, make_component, make_recommendation, make_report, make_user

# Readers: a viewer, an administrator, OIG staff, FEMA's and I&A's liaisons, a liaison of a
# third component (CBP), a liaison with no component, and someone not signed in.
READERS = ("anonymous", "viewer", "admin", "oig", "fema", "ia", "cbp", "nobody")


@pytest.fixture(autouse=True)
def world() -> dict:
    """The components (by the name the tables use) and the readers."""
    components = {name: make_component() for name in ("FEMA", "I&A", "CBP", "OCIO")}
    readers = {
        "anonymous": AnonymousUserMixin(),
        "viewer": make_user(Role.VIEWER),
        "admin": make_user(Role.ADMIN),
        "oig": make_user(Role.OIG),
        "fema": make_user(Role.LIAISON, [components["FEMA"]]),
        "ia": make_user(Role.LIAISON, [components["I&A"]]),
        "cbp": Reader(Role.LIAISON, (components["CBP"],)),
        "nobody": Reader(Role.LIAISON, ()),
    }
    _WORLD.clear()
    _WORLD.update(components=components, readers=readers)
    return _WORLD


_WORLD: dict = {}


def component(name: str) -> Component:
    return _WORLD["components"][name]


def _reader(name: str):
    return _WORLD["readers"][name]


def _two_component_rec(sensitivity: Sensitivity) -> Recommendation:
    """A recommendation of a public report, addressed to FEMA (the lead) and I&A."""
    return make_recommendation(
        make_report(),
        addressees=[component("FEMA"), component("I&A")],
        restricted=sensitivity == Sensitivity.RESTRICTED,
    )


def _report(components: list[str], addressed_to: list[str]) -> Report:
    """A restricted report with one restricted recommendation addressed to `addressed_to`."""
    report = make_report(restricted=True, components=[component(c) for c in components])
    make_recommendation(report, addressees=[component(c) for c in addressed_to])
    return report


def _sql_sees_rec(reader, target: Recommendation) -> bool:
    criterion = policy.recommendation_visibility(reader)
    stmt = sa.select(Recommendation.id).where(Recommendation.id == target.id, criterion)
    return db.session.scalar(stmt) is not None


def _sql_sees_report(reader, target: Report) -> bool:
    stmt = sa.select(Report.id).where(Report.id == target.id, policy.report_visibility(reader))
    return db.session.scalar(stmt) is not None


#                          anonymous viewer admin oig  fema  ia    cbp    nobody
REC_VISIBILITY = {
    Sensitivity.PUBLIC: (False, True, True, True, True, True, True, True),
    Sensitivity.RESTRICTED: (False, False, True, True, True, True, False, False),
}


@pytest.mark.parametrize("sensitivity", list(REC_VISIBILITY))
def test_who_reads_a_recommendation_addressed_to_two_components(sensitivity) -> None:
    target = _two_component_rec(sensitivity)
    for name, expected in zip(READERS, REC_VISIBILITY[sensitivity], strict=True):
        reader = _reader(name)
        assert policy.can_view_recommendation(reader, target) is expected, name
        assert _sql_sees_rec(reader, target) is expected, name


def test_a_restricted_recommendation_addressed_to_one_component_is_not_the_other_liaisons() -> None:
    report = make_report(restricted=True, components=[component("I&A"), component("FEMA")])
    make_recommendation(report, addressees=[component("I&A")])
    fema_only = make_recommendation(report, addressees=[component("FEMA")])
    expected = {"fema": True, "ia": False, "admin": True, "oig": True, "viewer": False, "cbp": False}
    for name, sees in expected.items():
        assert policy.can_view_recommendation(_reader(name), fema_only) is sees, name
        assert _sql_sees_rec(_reader(name), fema_only) is sees, name


# Reports: (components of the report, components its recommendation is addressed to)
REPORTS = {
    "both named": (["I&A", "FEMA"], ["I&A", "FEMA"]),
    "named, addressed elsewhere": (["FEMA"], ["CBP"]),
    "addressed to two, none named": ([], ["FEMA", "I&A"]),
    "nobody's": ([], ["OCIO"]),
}
#                                 anonymous viewer admin oig  fema  ia     cbp    nobody
REPORT_VISIBILITY = {
    "both named": (False, False, True, True, True, True, False, False),
    "named, addressed elsewhere": (False, False, True, True, True, False, True, False),
    "addressed to two, none named": (False, False, True, True, True, True, False, False),
    "nobody's": (False, False, True, True, False, False, False, False),
}


@pytest.mark.parametrize("case", list(REPORTS))
def test_who_opens_a_restricted_report(case) -> None:
    components, addressed = REPORTS[case]
    report = _report(components, addressed)
    for name, expected in zip(READERS, REPORT_VISIBILITY[case], strict=True):
        reader = _reader(name)
        assert policy.can_view_report(reader, report) is expected, (case, name)
        assert _sql_sees_report(reader, report) is expected, (case, name)


def test_everyone_signed_in_opens_a_public_report() -> None:
    report = make_report(components=[component("FEMA")])
    make_recommendation(report, addressees=[component("FEMA"), component("I&A")])
    assert report.sensitivity == Sensitivity.PUBLIC
    for name in READERS:
        expected = name != "anonymous"
        assert policy.can_view_report(_reader(name), report) is expected, name
        assert _sql_sees_report(_reader(name), report) is expected, name


def test_oig_staff_open_a_restricted_report_page(client) -> None:
    report = make_report(restricted=True, components=[component("I&A"), component("FEMA")])
    make_recommendation(report, addressees=[component("FEMA")])
    db.session.commit()  # the requests below end their sessions
    url = f"/reports/{report.id}"
    expected = {"oig": 200, "admin": 200, "fema": 200, "ia": 200, "viewer": 403}
    accounts = {name: _reader(name).get_id() for name in expected}
    for name, status in expected.items():
        assert login_as(client, accounts[name]).get(url).status_code == status, name


# Documents on a recommendation addressed to FEMA and I&A: FEMA's, I&A's, the OIG's own.
#                 reader:   (FEMA's, I&A's, OIG's)
DOWNLOADS = {
    Sensitivity.RESTRICTED: {
        "anonymous": (False, False, False),
        "viewer": (False, False, False),
        "admin": (True, True, True),
        "oig": (True, True, True),
        "fema": (True, False, True),
        "ia": (False, True, True),
        "cbp": (False, False, False),
    },
    Sensitivity.PUBLIC: {
        "anonymous": (False, False, False),
        "viewer": (True, True, True),
        "admin": (True, True, True),
        "oig": (True, True, True),
        "fema": (True, True, True),
        "ia": (True, True, True),
        "cbp": (True, True, True),
    },
}


@pytest.mark.parametrize("sensitivity", list(DOWNLOADS))
def test_who_downloads_which_document(sensitivity) -> None:
    target = _two_component_rec(sensitivity)
    owners = (component("FEMA").id, component("I&A").id, None)
    for name, expected in DOWNLOADS[sensitivity].items():
        for owner, sees in zip(owners, expected, strict=True):
            document = SimpleNamespace(recommendation=target, component_id=owner)
            assert policy.can_download_attachment(_reader(name), document) is sees, (name, owner)


#                        anonymous viewer admin  oig    fema   ia
ROLE_RULES = {
    "is_admin": (False, False, True, False, False, False),
    "is_staff": (False, False, True, True, False, False),
    "can_manage_reports": (False, False, True, True, False, False),
    "can_manage_components": (False, False, True, False, False, False),
    "can_manage_users": (False, False, True, False, False, False),
    "can_manage_acronyms": (False, False, True, False, False, False),
    "can_view_audit_log": (False, False, True, False, False, False),
    "has_work_queues": (False, False, True, True, True, True),
    "sees_actor_names": (False, False, True, True, True, True),
}


@pytest.mark.parametrize("rule", list(ROLE_RULES))
def test_role_rules(rule) -> None:
    for name, expected in zip(READERS, ROLE_RULES[rule], strict=False):
        assert getattr(policy, rule)(_reader(name)) is expected, name


def test_a_signed_out_user_with_a_role_attribute_has_no_role() -> None:
    ghost = SimpleNamespace(role=Role.ADMIN, is_authenticated=False)
    assert policy.is_admin(ghost) is False
    assert policy.is_staff(ghost) is False


def test_an_object_without_a_role_or_a_sign_in_flag_has_no_role() -> None:
    assert policy.is_staff(SimpleNamespace(is_authenticated=True)) is False
    assert policy.sees_actor_names(SimpleNamespace(is_authenticated=True)) is False
    assert policy.is_admin(SimpleNamespace(role=Role.ADMIN)) is False


def test_require_refuses_with_403() -> None:
    policy.require(True)
    with pytest.raises(Forbidden):
        policy.require(False)


def test_a_command_line_reader_has_its_components() -> None:
    fema, ia = component("FEMA"), component("I&A")
    reader = Reader(Role.LIAISON, (fema, ia))
    assert reader.component_ids == frozenset({fema.id, ia.id})
    assert reader.is_authenticated is True
    assert Reader(Role.VIEWER).component_ids == frozenset()
    assert Reader(Role.VIEWER).display_name == "command line"
