"""Every kind of message to every role, on a dataset with restricted items (issue 15, "No
restricted text in mail"): the liaison digest (daily and weekly), the OIG staff digest,
each event notice kind and the followers' weekly summary, to an administrator, OIG
staff, a liaison of each of two components, a viewer and a deactivated account. All of
it goes over the real SMTP server (tests/mailserver.py), and every message received is
read: no recommendation, response, plan, update, justification or OIG note text (the
one designed exception: a PUBLIC recommendation's returned-response reason in its own
liaison's digest, which the issue asks for), nothing at all about an item the recipient
may not see (not even its identifier or a link to it), nothing for the deactivated
account, and exactly the (recipient, kind, identifier) set written out below by hand.

The dataset (factories, its own components ALFA and BRAVO, so the suite's base data is
addressed to neither):

    KIND-PUB  public report (ALFA, BRAVO)     KIND-RA restricted (ALFA)   KIND-RB restricted (BRAVO)
      #1 public   ALFA   response returned      #1..#11 and KIND-RB #1..#11 alike, addressed to
      #2 public   BRAVO  resolved               the report's one component:
      #3 RESTRICTED BRAVO closure returned        #1 response returned   #7 new (tracked Jan 10)
      #4 public   ALFA+BRAVO closed (not impl.)   #2 closure returned    #8 response awaiting evaluation
      #5 RESTRICTED ALFA new (tracked Jan 10)     #3 closed              #9 closure awaiting decision
      #6 public   ALFA   target date moved        #4 reopened            #10 response overdue
                                                  #5 resolved            #11 new (tracked Jan 6)
                                                  #6 target date moved

Timeline (America/New_York, EST): the earlier steps on Wednesday 2026-12-30 (outside the
notice window and the summary's week), #11 entered Wednesday 2027-01-06, every tested
event on Sunday 2027-01-10 at 10:00, and the scheduler on Monday 2027-01-11 at 10:00:
the Monday of daily and weekly digests and of the followers' summary of January 4-10.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
import time_machine
from flask import Flask

from app.auth import policy
from app.extensions import db
from app.follows import services as follows
from app.lifecycle import workflow
from app.lifecycle.steps import Context
from app.mail import preferences
from app.models import (
    Component,
    Concurrence,
    DigestFrequency,
    Follow,
    NoticeKind,
    OutboxMessage,
    OutboxState,
    Recommendation,
    Report,
    Role,
    User,
)
from tests.factories import make_component, make_recommendation, make_report, make_user
from tests.mailserver import MailServer, html_of, notify, text_of

SETUP = "2026-12-30T15:00:00+00:00"  # Wednesday, 10:00 in Washington
WEDNESDAY = "2027-01-06T15:00:00+00:00"
SUNDAY = "2027-01-10T15:00:00+00:00"
MONDAY = "2027-01-11T15:00:00+00:00"
SETUP_DAY, WEDNESDAY_DAY, SUNDAY_DAY, MONDAY_DAY = (
    date(2026, 12, 30),
    date(2027, 1, 6),
    date(2027, 1, 10),
    date(2027, 1, 11),
)
TARGET, NEW_TARGET = date(2027, 9, 30), date(2027, 12, 31)
ISSUED = date(2026, 9, 1)  # the first response was due November 30, 2026: overdue on Monday

ADMIN, OIG, ALFA, BRAVO, VIEWER, GONE = (
    "kadmin@kinds.example",
    "koig@kinds.example",
    "kalfa@kinds.example",
    "kbravo@kinds.example",
    "kviewer@kinds.example",
    "kgone@kinds.example",
)
RECIPIENTS = (ADMIN, OIG, ALFA, BRAVO, VIEWER, GONE)
ACTOR = "kactor@kinds.example"  # OIG staff who take the OIG's steps; wants no mail
# Every text of the dataset carries this marker: none may be in any message...
MARK = "TXT-"
# ...but this one: the OIG's reason for returning KIND-PUB #1 (public) in ALFA's digest.
PUBLIC_REASON = "TXT-PUBREASON-PUB1 the plan lacks milestones"

# --- what each recipient may see (app/auth/policy.py), written out by hand -------------------
PUB_OPEN = {"KIND-PUB", "KIND-PUB #1", "KIND-PUB #2", "KIND-PUB #4", "KIND-PUB #6"}
RA = {"KIND-RA", *(f"KIND-RA #{n}" for n in range(1, 12))}
RB = {"KIND-RB", *(f"KIND-RB #{n}" for n in range(1, 12))}
EVERYTHING = PUB_OPEN | {"KIND-PUB #3", "KIND-PUB #5"} | RA | RB
MAY_SEE = {
    ADMIN: EVERYTHING,
    OIG: EVERYTHING,
    ALFA: PUB_OPEN | {"KIND-PUB #5"} | RA,  # its own restricted items, none of BRAVO's
    BRAVO: PUB_OPEN | {"KIND-PUB #3"} | RB,
    VIEWER: PUB_OPEN,  # public items only
    GONE: set(),  # deactivated: nothing at all
}
# Report titles are named only where the number is not known; still, never to a non-reader.
TITLES = {"KIND-RA": "Kinds title RA", "KIND-RB": "Kinds title RB", "KIND-PUB": "Kinds title PUB"}


def _notices(who: str, component: str, report: str, *rows: tuple[int, str]) -> set[tuple[str, str, str]]:
    return {(who, f"notice: {label}", f"{report} #{n} ({component})") for n, label in rows}


def _listed(who: str, kind: str, *idents: str) -> set[tuple[str, str, str]]:
    return {(who, kind, i) for i in idents}


def _liaison_notices(who: str, component: str, report: str) -> set[tuple[str, str, str]]:
    """The liaison notices of one restricted report's Sunday events."""
    return _notices(
        who,
        component,
        report,
        (1, "Response returned"),
        (2, "Closure request returned"),
        (3, "Closed"),
        (4, "Reopened"),
        (5, "Resolved"),
        (7, "Issued"),
    )


def _summary(who: str, *idents: str) -> set[tuple[str, str, str]]:
    return _listed(who, "follow summary", *idents)


STATUS_CHANGED_RA = ("KIND-RA #3", "KIND-RA #4", "KIND-RA #5", "KIND-RA #7", "KIND-RA #11")
STATUS_CHANGED_RB = ("KIND-RB #3", "KIND-RB #4", "KIND-RB #5", "KIND-RB #7", "KIND-RB #11")
STAFF_DIGEST_ITEMS = ("KIND-RA #8", "KIND-RA #9", "KIND-RB #8", "KIND-RB #9")

EXPECTED: set[tuple[str, str, str]] = (
    # OIG staff (and administrators): the staff digest (ADMIN weekly, OIG daily: on a
    # Monday the same), the target date moves, and the summary of everything they follow
    _listed(ADMIN, "staff digest", *STAFF_DIGEST_ITEMS)
    | _listed(OIG, "staff digest", *STAFF_DIGEST_ITEMS)
    | _notices(ADMIN, "ALFA", "KIND-RA", (6, "Progress update"))
    | _notices(ADMIN, "BRAVO", "KIND-RB", (6, "Progress update"))
    | _notices(ADMIN, "ALFA", "KIND-PUB", (6, "Progress update"))
    | _notices(OIG, "ALFA", "KIND-RA", (6, "Progress update"))
    | _notices(OIG, "BRAVO", "KIND-RB", (6, "Progress update"))
    | _notices(OIG, "ALFA", "KIND-PUB", (6, "Progress update"))
    # (KIND-PUB #6 is public: BRAVO's liaison and the viewer may read it, yet a target
    # move is a notice for OIG staff only)
    | _summary(ADMIN, *STATUS_CHANGED_RA, *STATUS_CHANGED_RB, "KIND-PUB #2", "KIND-PUB #4", "KIND-PUB #5")
    | _summary(OIG, *STATUS_CHANGED_RA, *STATUS_CHANGED_RB, "KIND-PUB #2", "KIND-PUB #4", "KIND-PUB #5")
    # ALFA's liaison, daily digest: returned #1 #2, new #7 (#11 was entered before
    # yesterday), overdue #10; on KIND-PUB its returned #1 and its new restricted #5
    | _listed(
        ALFA,
        "liaison digest",
        "KIND-RA #1",
        "KIND-RA #2",
        "KIND-RA #7",
        "KIND-RA #10",
        "KIND-PUB #1",
        "KIND-PUB #5",
    )
    | _liaison_notices(ALFA, "ALFA", "KIND-RA")
    | _notices(ALFA, "ALFA", "KIND-PUB", (1, "Response returned"), (4, "Closed"), (5, "Issued"))
    # it follows KIND-RB too (a row written while it could, say): none of it reaches it
    | _summary(ALFA, *STATUS_CHANGED_RA, "KIND-PUB #2", "KIND-PUB #4", "KIND-PUB #5")
    # BRAVO's liaison, weekly digest: the week's new #7 and #11, and KIND-PUB's
    # restricted #3 returned to BRAVO
    | _listed(
        BRAVO,
        "liaison digest",
        "KIND-RB #1",
        "KIND-RB #2",
        "KIND-RB #7",
        "KIND-RB #10",
        "KIND-RB #11",
        "KIND-PUB #3",
    )
    | _liaison_notices(BRAVO, "BRAVO", "KIND-RB")
    | _notices(BRAVO, "BRAVO", "KIND-PUB", (2, "Resolved"), (3, "Closure request returned"), (4, "Closed"))
    | _summary(BRAVO, *STATUS_CHANGED_RB, "KIND-PUB #2", "KIND-PUB #4")
    # the viewer: no digest, no notice (none is for a read-only account), and of what it
    # follows (both components, KIND-PUB and, a row written while it could, KIND-RA)
    # the public changes only
    | _summary(VIEWER, "KIND-PUB #2", "KIND-PUB #4")
    # GONE: nothing
)

# How many messages of each kind each recipient gets (a notice per event).
EXPECTED_COUNTS = {
    (ADMIN, "staff digest"): 1,
    (ADMIN, "notice: Progress update"): 3,
    (ADMIN, "follow summary"): 1,
    (OIG, "staff digest"): 1,
    (OIG, "notice: Progress update"): 3,
    (OIG, "follow summary"): 1,
    (ALFA, "liaison digest"): 1,
    (ALFA, "notice: Response returned"): 2,
    (ALFA, "notice: Closure request returned"): 1,
    (ALFA, "notice: Closed"): 2,
    (ALFA, "notice: Reopened"): 1,
    (ALFA, "notice: Resolved"): 1,
    (ALFA, "notice: Issued"): 2,
    (ALFA, "follow summary"): 1,
    (BRAVO, "liaison digest"): 1,
    (BRAVO, "notice: Response returned"): 1,
    (BRAVO, "notice: Closure request returned"): 2,
    (BRAVO, "notice: Closed"): 2,
    (BRAVO, "notice: Reopened"): 1,
    (BRAVO, "notice: Resolved"): 2,
    (BRAVO, "notice: Issued"): 1,
    (BRAVO, "follow summary"): 1,
    (VIEWER, "follow summary"): 1,
}


# --- building the dataset -----------------------------------------------------------------


def _text(tag: str, what: str) -> str:
    return f"{MARK}{what}-{tag} words only its page may show"


class Dataset:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.recs: dict[str, Recommendation] = {}  # "KIND-RA #1" -> recommendation
        self.components: dict[str, Component] = {}
        self.reports: dict[str, Report] = {}

    def user(self, email: str) -> User:
        return self.users[email]

    def ctx(self, email: str, day: date) -> Context:
        return Context(user=self.users[email], today=day)

    def rec(
        self, report: str, number: int, components: list[str], day: date, **fields: Any
    ) -> Recommendation:
        ident = f"{report} #{number}"
        tag = ident.replace(" #", "-")
        rec = make_recommendation(
            self.reports[report],
            [self.components[c] for c in components],
            number=number,
            text=_text(tag, "REC"),
            with_history=True,
            **fields,
        )
        self.recs[ident] = rec
        return rec


def respond(data: Dataset, ident: str, liaison: str, day: date) -> None:
    tag = ident.replace(" #", "-")
    rec = data.recs[ident]
    for part in rec.addressees:
        workflow.submit_response(
            db.session,
            data.ctx(liaison, day),
            rec,
            part,
            workflow.ResponseData(
                Concurrence.CONCUR,
                _text(tag, "RESPONSE"),
                _text(tag, "PLAN"),
                TARGET,
                _text(tag, "OFFICIAL"),
            ),
        )


def resolve(data: Dataset, ident: str, day: date) -> None:
    workflow.resolve(db.session, data.ctx(ACTOR, day), data.recs[ident], _text(ident, "RESOLVE-NOTE"))


def request_closure(data: Dataset, ident: str, liaison: str, day: date) -> None:
    rec = data.recs[ident]
    workflow.request_closure(
        db.session, data.ctx(liaison, day), rec, rec.addressees[0], _text(ident, "JUSTIFY")
    )


def close(data: Dataset, ident: str, day: date, implemented: bool = True) -> None:
    workflow.close(
        db.session,
        data.ctx(ACTOR, day),
        data.recs[ident],
        implemented=implemented,
        note=_text(ident, "CLOSE"),
    )


def build(app: Flask) -> Dataset:
    data = Dataset()
    with time_machine.travel(SETUP, tick=False):
        alfa = make_component("ALFA", "Alfa Directorate")
        bravo = make_component("BRAVO", "Bravo Office")
        data.components = {"ALFA": alfa, "BRAVO": bravo}
        for email, role, components, active in (
            (ADMIN, Role.ADMIN, [], True),
            (OIG, Role.OIG, [], True),
            (ALFA, Role.LIAISON, [alfa], True),
            (BRAVO, Role.LIAISON, [bravo], True),
            (VIEWER, Role.VIEWER, [], True),
            (GONE, Role.LIAISON, [alfa], True),  # deactivated below, after following
            (ACTOR, Role.OIG, [], True),
        ):
            data.users[email] = make_user(role, components, email=email, active=active)
        data.reports = {
            "KIND-PUB": make_report(
                number="KIND-PUB", title=TITLES["KIND-PUB"], issued_on=ISSUED, components=[alfa, bravo]
            ),
            "KIND-RA": make_report(
                number="KIND-RA",
                title=TITLES["KIND-RA"],
                issued_on=ISSUED,
                restricted=True,
                components=[alfa],
            ),
            "KIND-RB": make_report(
                number="KIND-RB",
                title=TITLES["KIND-RB"],
                issued_on=ISSUED,
                restricted=True,
                components=[bravo],
            ),
        }
        for report, component, liaison in (("KIND-RA", "ALFA", ALFA), ("KIND-RB", "BRAVO", BRAVO)):
            for n in (1, 2, 3, 4, 5, 6, 8, 9, 10):
                data.rec(report, n, [component], SETUP_DAY)
            for n in (1, 2, 3, 4, 5, 6, 8, 9):
                respond(data, f"{report} #{n}", liaison, SETUP_DAY)
            for n in (2, 3, 4, 6, 9):
                resolve(data, f"{report} #{n}", SETUP_DAY)
            for n in (2, 3, 4, 9):
                request_closure(data, f"{report} #{n}", liaison, SETUP_DAY)
            close(data, f"{report} #4", SETUP_DAY)
        data.rec("KIND-PUB", 1, ["ALFA"], SETUP_DAY)
        data.rec("KIND-PUB", 2, ["BRAVO"], SETUP_DAY)
        data.rec("KIND-PUB", 3, ["BRAVO"], SETUP_DAY, restricted=True)
        data.rec("KIND-PUB", 4, ["ALFA", "BRAVO"], SETUP_DAY)
        data.rec("KIND-PUB", 6, ["ALFA"], SETUP_DAY)
        respond(data, "KIND-PUB #1", ALFA, SETUP_DAY)
        respond(data, "KIND-PUB #2", BRAVO, SETUP_DAY)
        respond(data, "KIND-PUB #3", BRAVO, SETUP_DAY)
        respond(data, "KIND-PUB #6", ALFA, SETUP_DAY)
        resolve(data, "KIND-PUB #6", SETUP_DAY)
        resolve(data, "KIND-PUB #3", SETUP_DAY)
        request_closure(data, "KIND-PUB #3", BRAVO, SETUP_DAY)

        # Everyone asks for everything; the suite's own accounts and the actor for nothing.
        every_notice = [n.value for n in NoticeKind]
        frequency = {ADMIN: DigestFrequency.WEEKLY, BRAVO: DigestFrequency.WEEKLY}
        for email in RECIPIENTS:
            preferences.save(
                db.session, data.user(email), frequency.get(email, DigestFrequency.DAILY), every_notice
            )
        for other in db.session.scalars(sa.select(User).where(User.email.not_in(RECIPIENTS))):
            preferences.save(db.session, other, DigestFrequency.OFF, [], follow_summary=False)
        # Follows, through the service (only what each may see)...
        reports_followed = {
            ADMIN: ("KIND-PUB", "KIND-RA", "KIND-RB"),
            OIG: ("KIND-PUB", "KIND-RA", "KIND-RB"),
            ALFA: ("KIND-PUB", "KIND-RA"),
            BRAVO: ("KIND-PUB", "KIND-RB"),
            VIEWER: ("KIND-PUB",),
            GONE: ("KIND-PUB", "KIND-RA"),
        }
        for email, numbers in reports_followed.items():
            user = data.user(email)
            for component in (alfa, bravo):
                assert follows.follow(db.session, user, follows.COMPONENT, component.id)
            for number in numbers:
                assert follows.follow(db.session, user, follows.REPORT, data.reports[number].id)
        # ...and two rows the service would refuse now (followed while it could, say):
        # nothing of these reports may reach them.
        db.session.add(Follow(user_id=data.user(VIEWER).id, report_id=data.reports["KIND-RA"].id))
        db.session.add(Follow(user_id=data.user(ALFA).id, report_id=data.reports["KIND-RB"].id))
        data.user(GONE).active = False
        db.session.flush()

    with time_machine.travel(WEDNESDAY, tick=False):
        data.rec("KIND-RA", 11, ["ALFA"], WEDNESDAY_DAY, tracked_since=WEDNESDAY_DAY)
        data.rec("KIND-RB", 11, ["BRAVO"], WEDNESDAY_DAY, tracked_since=WEDNESDAY_DAY)
        db.session.flush()

    with time_machine.travel(SUNDAY, tick=False):
        day = SUNDAY_DAY
        for report, liaison in (("KIND-RA", ALFA), ("KIND-RB", BRAVO), ("KIND-PUB", ALFA)):
            r6 = data.recs[f"{report} #6"]
            workflow.post_update(
                db.session,
                data.ctx(liaison, day),
                r6,
                r6.addressees[0],
                workflow.UpdateData(_text(report, "UPDATE"), NEW_TARGET, _text(report, "WHY-MOVED")),
            )
        for report, component in (("KIND-RA", "ALFA"), ("KIND-RB", "BRAVO")):
            r1, r2 = (data.recs[f"{report} #{n}"] for n in (1, 2))
            workflow.return_response(
                db.session, data.ctx(ACTOR, day), r1, r1.addressees[0], _text(report, "RETURN-REASON")
            )
            workflow.return_closure(
                db.session, data.ctx(ACTOR, day), r2, r2.addressees[0], _text(report, "CLOSURE-REASON")
            )
            close(data, f"{report} #3", day)
            workflow.reopen(
                db.session, data.ctx(ACTOR, day), data.recs[f"{report} #4"], _text(report, "REOPEN")
            )
            resolve(data, f"{report} #5", day)
            data.rec(report, 7, [component], day, tracked_since=day)
        p1, p3 = data.recs["KIND-PUB #1"], data.recs["KIND-PUB #3"]
        workflow.return_response(db.session, data.ctx(ACTOR, day), p1, p1.addressees[0], PUBLIC_REASON)
        resolve(data, "KIND-PUB #2", day)
        workflow.return_closure(
            db.session, data.ctx(ACTOR, day), p3, p3.addressees[0], _text("PUB3", "CLOSURE-REASON")
        )
        close(data, "KIND-PUB #4", day, implemented=False)
        data.rec("KIND-PUB", 5, ["ALFA"], day, restricted=True, tracked_since=day)
        db.session.flush()
    return data


# --- reading what arrived ---------------------------------------------------------------------

IDENT = re.compile(r"\b(KIND-(?:PUB|RA|RB))\b(?:(?: #|, Recommendation )(\d+))?")
LINK = re.compile(r"/(recommendations|reports)/(\d+)")


def kind_of(message: EmailMessage) -> str:
    subject = str(message["Subject"])
    if subject.startswith("RecTrack digest: "):
        return "liaison digest"
    if re.fullmatch(r"RecTrack: \d+ items await the OIG \(.*\)", subject):
        return "staff digest"
    if re.fullmatch(r"RecTrack: \d+ status changes? in what you follow", subject):
        return "follow summary"
    found = re.fullmatch(r"RecTrack: (KIND-\S+ #\d+ \([A-Z, ]+\)): (.+)", subject)
    assert found, subject
    return f"notice: {found.group(2)}"


def whole(message: EmailMessage) -> str:
    return f"{message['Subject']}\n{text_of(message)}\n{html_of(message)}"


def idents_in(message: EmailMessage, kind: str, names: dict[tuple[str, int], str]) -> set[str]:
    """The dataset's items a message names: by number, by title, or by a link to its page."""
    body = whole(message)
    found = {f"{r} #{n}" if n else r for r, n in IDENT.findall(body)}
    found |= {report for report, title in TITLES.items() if title in body}
    found |= {names[(what, int(n))] for what, n in LINK.findall(body) if (what, int(n)) in names}
    # a report mentioned only as part of an item's name is that item
    found = {i for i in found if " #" in i or not any(j.startswith(f"{i} #") for j in found)}
    if kind.startswith("notice"):  # about one item, named in the subject with its component(s)
        name = re.sub(r"^RecTrack: (.+): [^:]+$", r"\1", str(message["Subject"]))
        assert found == {name.split(" (")[0]}, (kind, found)
        return {name}
    return found


def test_every_kind_to_every_role_keeps_restricted_items_to_their_readers(
    app: Flask, smtp: MailServer
) -> None:
    data = build(app)
    # the hand-written table agrees with the policy (so a change there says so here)
    for email, visible in MAY_SEE.items():
        user = data.user(email)
        for ident, recommendation in data.recs.items():
            sees = user.active and policy.can_view_recommendation(user, recommendation)
            assert sees == (ident in visible), (email, ident)
    names = {("recommendations", r.id): ident for ident, r in data.recs.items()}
    names |= {("reports", r.id): number for number, r in data.reports.items()}
    gone_id = data.user(GONE).id
    pub1 = data.recs["KIND-PUB #1"].id  # (the run ends the session the dataset was loaded in)

    with time_machine.travel(MONDAY, tick=False):
        notify(app, MONDAY_DAY)
        notify(app, MONDAY_DAY)  # a second run the same day adds nothing

    mine = [m for m in smtp.received if m["To"] in RECIPIENTS]
    assert len(mine) == len(smtp.received)  # the suite's own accounts asked for nothing
    found: set[tuple[str, str, str]] = set()
    counts: Counter[tuple[str, str]] = Counter()
    for message in mine:
        recipient, kind = str(message["To"]), kind_of(message)
        counts[(recipient, kind)] += 1
        body = whole(message)
        # no text of the dataset, but the public reason in its own liaison's digest
        allowed = body.replace(PUBLIC_REASON, "") if (recipient, kind) == (ALFA, "liaison digest") else body
        assert MARK not in allowed, (recipient, kind, allowed[allowed.index(MARK) - 80 :][:200])
        for ident in idents_in(message, kind, names):
            if kind.startswith("notice"):
                bare = ident.split(" (")[0]
                assert bare in MAY_SEE[recipient], (recipient, kind, ident)
            else:
                assert ident in MAY_SEE[recipient], (recipient, kind, ident)
            found.add((recipient, kind, ident))
    # the staff digests list the suite's base data too (staff see everything): only the
    # dataset's items are compared
    assert found == EXPECTED
    assert dict(counts) == EXPECTED_COUNTS
    alfa_digest = text_of(next(m for m in mine if m["To"] == ALFA and kind_of(m) == "liaison digest"))
    assert (
        "RETURNED BY THE OIG\r\n"
        "- KIND-PUB #1 (ALFA): Response returned\r\n"
        f"  Reason: {PUBLIC_REASON}\r\n"
        f"  http://rectrack.test/recommendations/{pub1}/components/"
    ) in alfa_digest
    assert (
        "- KIND-RA #2 (ALFA): Closure request returned on January 10, 2027\r\n"
        "  Reason: restricted; read it on the recommendation's page\r\n"
    ) in alfa_digest

    # the deactivated account: nothing sent, nothing even queued
    assert smtp.to(GONE) == []
    assert db.session.scalar(sa.select(sa.func.count()).where(OutboxMessage.user_id == gone_id)) == 0
    # every queued message went out once
    states = Counter(db.session.scalars(sa.select(OutboxMessage.state)))
    assert states == {OutboxState.SENT: len(mine)}


def test_the_kinds_each_role_gets() -> None:
    """The table above, read by kind: who gets which kind at all (a check of the table
    itself, so a slip in writing EXPECTED shows)."""
    by_recipient: dict[str, set[str]] = {}
    for recipient, kind, _ in EXPECTED:
        by_recipient.setdefault(recipient, set()).add(kind.split(":")[0])
    assert by_recipient == {
        ADMIN: {"staff digest", "notice", "follow summary"},
        OIG: {"staff digest", "notice", "follow summary"},
        ALFA: {"liaison digest", "notice", "follow summary"},
        BRAVO: {"liaison digest", "notice", "follow summary"},
        VIEWER: {"follow summary"},
    }
    staff_notices = {k for r, k, _ in EXPECTED if r in (ADMIN, OIG) and k.startswith("notice")}
    assert staff_notices == {"notice: Progress update"}  # target moved: staff only
    liaison_notices = {k for r, k, _ in EXPECTED if r in (ALFA, BRAVO) and k.startswith("notice")}
    assert liaison_notices == {
        "notice: Response returned",
        "notice: Closure request returned",
        "notice: Resolved",
        "notice: Closed",
        "notice: Reopened",
        "notice: Issued",
    }
