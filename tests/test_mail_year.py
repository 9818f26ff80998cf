"""The simulated year (issue 15): a few hundred recommendations live through responses,
returns, resolutions, progress updates, closure requests, decisions and reopenings, while
the frozen clock moves one day at a time for 400 days (across both daylight-saving
changes) and the scheduler's tasks run as Celery beat would run them: the digests at 06:00
in the OIG's time zone (twice: a second scheduler), the outbox and the event notices at
noon, and everything again at 23:30, when the UTC date is already the next day's.

Beside the app, the test keeps its own model of every addressee, moved by the same
actions, and computes from the written rules (README "Deadline policy", written out
again here, never read from app/) which digests, notices and follower summaries should go
out each day and what each must list. It then asserts that the local SMTP server received
every one of them exactly once, with the expected lines, and nothing else: 0 missed, 0
duplicates, 0 unexpected. The SMTP server is down for two days in the middle; what was
queued then arrives once when it is back. Work is done at 01:00, 10:00 and 23:00 local
time, so a scheduler that used the UTC date would put items in the wrong day or week.

It runs on a database of its own (own_database), on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from celery import _state as celery_state
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.orm import selectinload
from sqlalchemy.pool import NullPool

from app import audit, create_app
from app.cache import derived
from app.extensions import db
from app.follows import services as follows
from app.lifecycle import workflow
from app.mail import preferences, tasks
from app.models import Component, Concurrence, DigestFrequency, NoticeKind, Role, User
from config import TestingConfig
from tests import factories
from tests.mailserver import MailServer, text_of

pytestmark = pytest.mark.own_database

TZ = ZoneInfo("America/New_York")
START = date(2026, 1, 5)  # a Monday; DST begins March 8, 2026 and ends November 1, 2026
DAYS = 400
OUTAGE = (180, 181)  # the SMTP server is down on these days (from START)
SWITCH_DAY = 120  # the FEMA liaison switches from a daily to a weekly digest
HANDOVER_DAY = 250  # the I&A/TSA liaison leaves (deactivated); a new I&A liaison starts
LOOKAHEAD = 14
INTERVAL = 90  # UPDATE_INTERVAL_DAYS
REVISED = 30  # REVISED_RESPONSE_DAYS
REOPENED = 90
RESPONSE = 90
ROW_LIMIT = 25  # rows the staff digest lists per section
NIGHT, DAYTIME, EVENING = 1, 10, 23  # local hours work is done at
SECTIONS = (
    "RESPONSES AWAITING EVALUATION",
    "CLOSURE REQUESTS AWAITING DECISION",
    "RESOLUTIONS PAST 6 MONTHS",
)
STATUS = {
    "U": "Open–Unresolved",
    "R": "Open–Resolved",
    "CI": "Closed–Implemented",
    "CN": "Closed–Not implemented",
}
LIAISON_KINDS = {
    "Issued": "new_recommendation",
    "Response returned": "response_returned",
    "Closure request returned": "response_returned",
    "Resolved": "decision_made",
    "Closed": "decision_made",
    "Reopened": "reopened",
}


def long(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError(day)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock time in Washington as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


# --- the test's own model --------------------------------------------------------------


@dataclass(eq=False)
class Part:
    id: int
    comp: str
    response: str = "none"  # none | submitted | returned | accepted
    response_due_on: date | None = None  # set by a return or a reopening
    response_date: date | None = None
    target: date | None = None
    last_update: date | None = None
    closure: str = "none"  # none | requested | returned | accepted
    closure_on: date | None = None
    last_target_event: date | None = None  # the target date the latest event that set one said


@dataclass(eq=False)
class Rec:
    id: int
    report: str
    number: int
    issued: date
    tracked: date
    rec_public: bool
    report_public: bool
    report_id: int
    parts: list[Part]
    status: str = "U"
    resolved_on: date | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("U", "R")

    @property
    def name(self) -> str:
        return f"{self.report} #{self.number}"


def response_due(rec: Rec, p: Part) -> date | None:
    """Open–Unresolved and no acceptable response in: 90 days after issue, or the date a
    return (30 days) or a reopening (90 days) set; none before tracking began."""
    if rec.status != "U" or p.response not in ("none", "returned"):
        return None
    due = p.response_due_on or rec.issued + timedelta(days=RESPONSE)
    return due if due >= rec.tracked else None


def update_due(rec: Rec, p: Part) -> date | None:
    """Open–Resolved, no closure request pending: 90 days after the latest of the
    resolution, the last update and a returned closure request."""
    if rec.status != "R" or p.closure == "requested":
        return None
    assert rec.resolved_on is not None
    starts = [rec.resolved_on, p.last_update, p.closure_on if p.closure == "returned" else None]
    return max(d for d in starts if d is not None) + timedelta(days=INTERVAL)


def target_due(rec: Rec, p: Part) -> date | None:
    if not rec.is_open or p.target is None or p.target < rec.tracked:
        return None
    return p.target


def resolution_late(rec: Rec, day: date) -> bool:
    """Open–Unresolved more than six calendar months after issue (tracked then)."""
    due = add_months(rec.issued, 6)
    return rec.status == "U" and due >= rec.tracked and due < day


@dataclass
class Person:
    key: str
    email: str
    role: Role
    comps: tuple[str, ...] = ()
    digest: str = "daily"  # daily | weekly | off
    notices: tuple[str, ...] = ()
    created: datetime | None = None
    gone: datetime | None = None  # deactivated at
    user_id: int = 0


@dataclass
class Event:
    label: str  # the event kind's label, as the subject gives it
    rec: Rec
    part: Part | None
    actor: str | None  # a person's key; None: the system
    when: datetime
    day: date
    status_after: str | None = None
    effective: date | None = None
    target_moved: bool = False


Expected = tuple[str, str, str, tuple[str, ...]]  # (to, subject, first line, sorted list lines)


@dataclass
class Sim:
    recs: list[Rec] = field(default_factory=list)
    people: dict[str, Person] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    expected: list[Expected] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)  # text that must never be mailed
    public_reasons: set[str] = field(default_factory=set)  # return reasons of public recommendations
    digested: set[tuple[str, date]] = field(default_factory=set)  # (person, day) with a digest

    # -- digests --

    def liaison_digest(self, person: Person, day: date, period: int) -> Expected | None:
        overdue, soon, returned, new = [], [], [], []
        horizon = day + timedelta(days=LOOKAHEAD)
        for rec in self.recs:
            if not rec.is_open:
                continue
            for p in rec.parts:
                if p.comp not in person.comps:
                    continue
                name = f"{rec.name} ({p.comp})"
                label = "Revised response" if p.response_due_on is not None else "Response"
                for clock_label, due in (
                    (label, response_due(rec, p)),
                    ("Update", update_due(rec, p)),
                    ("Target completion", target_due(rec, p)),
                ):
                    if due is None:
                        continue
                    if due < day:
                        overdue.append(f"- {name}: {clock_label} was due {long(due)}")
                    elif due <= horizon:
                        soon.append(f"- {name}: {clock_label} due {long(due)}")
                if p.response == "returned" and rec.status == "U":
                    returned.append(f"- {name}: Response returned")
                if p.closure == "returned":
                    assert p.closure_on is not None
                    returned.append(f"- {name}: Closure request returned on {long(p.closure_on)}")
                if day - timedelta(days=period) <= rec.tracked < day:
                    new.append(f"- {name}: entered {long(rec.tracked)}")
        if not (overdue or soon or returned or new):
            return None
        counts = []
        if overdue:
            counts.append(f"{len(overdue)} overdue")
        if soon:
            counts.append(f"{len(soon)} due by {long(horizon)}")
        if returned:
            counts.append(f"{len(returned)} returned")
        if new:
            counts.append(f"{len(new)} new")
        subject = "RecTrack digest: " + ", ".join(counts)
        lines = tuple(sorted(overdue + soon + returned + new))
        return person.email, subject, f"RecTrack digest for {long(day)}", lines

    def staff_digest(self, person: Person, day: date) -> Expected | None:
        evaluate = [
            f"- {rec.name} ({p.comp})"
            for rec in self.recs
            if rec.is_open
            for p in rec.parts
            if p.response == "submitted"
        ]
        decide = [
            f"- {rec.name} ({p.comp})"
            for rec in self.recs
            if rec.status == "R"
            for p in rec.parts
            if p.closure == "requested"
        ]
        late = [f"- {rec.name}" for rec in self.recs if resolution_late(rec, day)]
        updates = Counter(
            p.comp
            for rec in self.recs
            if rec.is_open
            for p in rec.parts
            if (due := update_due(rec, p)) is not None and due < day
        )
        total = len(evaluate) + len(decide) + len(late)
        if not total and not updates:
            return None
        lines = [
            f"{title}: {len(rows)}" for title, rows in zip(SECTIONS, (evaluate, decide, late), strict=True)
        ]
        for rows in (evaluate, decide, late):
            # which rows a long section lists depends on an order with ties: count only
            lines += rows if len(rows) <= ROW_LIMIT else [f"(more than {ROW_LIMIT} rows)"]
        lines += [f"- {comp}: {n}" for comp, n in sorted(updates.items())]
        subject = f"RecTrack: {total} items await the OIG ({long(day)})"
        return person.email, subject, f"RecTrack: what awaits the OIG on {long(day)}", tuple(sorted(lines))

    def digests(self, day: date, now: datetime) -> None:
        """The digests a run of the digest task at `now` sends: one per person per day at
        most, so a later run the same day sends only to those who had none yet (nothing
        was due earlier, or the account is new)."""
        for person in self.people.values():
            if not (person.created and person.created <= now) or (person.gone and person.gone <= now):
                continue
            if (person.key, day) in self.digested:
                continue
            frequency = person.digest
            if person.key == "fema" and now >= at(START + timedelta(days=SWITCH_DAY), 9):
                frequency = "weekly"
            if frequency == "off" or (frequency == "weekly" and day.weekday() != 0):
                continue
            found: Expected | None = None
            if person.role == Role.LIAISON:
                found = self.liaison_digest(person, day, 7 if frequency == "weekly" else 1)
            elif person.role in (Role.OIG, Role.ADMIN):
                found = self.staff_digest(person, day)
            if found is not None:
                self.expected.append(found)
                self.digested.add((person.key, day))

    # -- notices and summaries --

    def notices(self, event: Event) -> None:
        """Who hears of `event`: readers who existed when it happened, are still active
        at the run that follows it, want its kind and did not cause it."""
        rec = event.rec
        parts = [event.part] if event.part is not None else rec.parts
        for person in self.people.values():
            if person.key == event.actor or not (person.created and person.created <= event.when):
                continue
            if person.gone and person.gone <= event.when + timedelta(hours=2):
                continue  # deactivated before the next notice run
            if (
                event.target_moved
                and person.role in (Role.OIG, Role.ADMIN)
                and "target_moved" in person.notices
            ):
                comps = ", ".join(sorted(p.comp for p in parts))
                subject = f"RecTrack: {rec.name} ({comps}): {event.label}"
                self.expected.append((person.email, subject, "", ()))
            kind = LIAISON_KINDS.get(event.label)
            if person.role != Role.LIAISON or kind is None or kind not in person.notices:
                continue
            mine = sorted({p.comp for p in parts if p.comp in person.comps})
            if mine:
                subject = f"RecTrack: {rec.name} ({', '.join(mine)}): {event.label}"
                self.expected.append((person.email, subject, "", ()))

    def summaries(self, monday: date, follower: Person, report_ids: set[int], comp: str) -> None:
        first = monday - timedelta(days=7)
        lines = [
            f"- {e.rec.report}, Recommendation {e.rec.number}: {STATUS[e.status_after]} "
            f"(effective {long(e.effective)})"
            for e in self.events
            if e.status_after is not None
            and e.effective is not None
            and first <= e.day < monday
            and e.rec.rec_public
            and e.rec.report_public
            and (e.rec.report_id in report_ids or any(p.comp == comp for p in e.rec.parts))
        ]
        if lines:
            n = len(lines)
            subject = f"RecTrack: {n} status change{'s' if n != 1 else ''} in what you follow"
            last = monday - timedelta(days=1)
            head = f"RecTrack: status changes in what you follow, {long(first)} to {long(last)}"
            self.expected.append((follower.email, subject, head, tuple(sorted(lines))))


def received(message: Any) -> Expected:
    """What a received message is compared by: a notice by its recipient and subject; a
    digest or summary also by its first line and its list lines."""
    # Python's e-mail package may fold a long Subject right after "Subject:"; a reader
    # drops the space the unfolding leaves
    subject = message["Subject"].strip()
    if subject.startswith("RecTrack: ") and not (
        "in what you follow" in subject or "await the OIG" in subject
    ):
        return message["To"], subject, "", ()
    text = text_of(message)
    lines = text.splitlines()
    listed = [
        line for line in lines if line.startswith("- ") or any(line.startswith(f"{s}: ") for s in SECTIONS)
    ]
    if "items await the OIG" in subject:
        for title in SECTIONS:
            count = int(next(line for line in listed if line.startswith(f"{title}: ")).split(": ")[1])
            if count > ROW_LIMIT:
                section = _section(lines, title)
                listed = [line for line in listed if line not in section] + [f"(more than {ROW_LIMIT} rows)"]
    return message["To"], subject, lines[0], tuple(sorted(listed))


def _section(lines: list[str], title: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{title}: "))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("- "):
            rows.append(line)
        elif line and not line.startswith("  "):
            break
    return rows


# --- the app side ------------------------------------------------------------------------


@pytest.fixture
def year_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database of its own, migrated to the head."""
    suite_celery = celery_state.get_current_app()
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        url = url.set(database=f"{url.database}_year")
        admin = sa.create_engine(
            url.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    else:
        url = make_url(f"sqlite:///{tmp_path / 'year.db'}")
    config = TestingConfig(url.render_as_string(hide_password=False))
    config.ATTACHMENT_DIR = str(tmp_path / "attachments")
    app = create_app(config)
    # create_app made its own Celery app the current one; the rest of the suite keeps its own
    suite_celery.set_current()
    suite_celery.set_default()
    derived.clear()
    with app.app_context():
        upgrade()
        db.session.remove()
    try:
        yield app
    finally:
        derived.clear()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if url.get_backend_name() == "postgresql":
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
            admin.dispose()


COMPONENTS = ("FEMA", "CBP", "I&A", "TSA")


class World:
    """Drives the app and the model together, one action at a time."""

    def __init__(self, app: Flask, sim: Sim, rng: random.Random) -> None:
        self.app, self.sim, self.rng = app, sim, rng
        self.components: dict[str, int] = {}
        self.serial = itertools.count(1)
        self.report_serial = itertools.count(1)
        self.today = START
        self.now = at(START, 0)

    # -- setup --

    def person(
        self, key: str, role: Role, comps: tuple[str, ...], digest: str, notices: tuple[str, ...]
    ) -> Person:
        person = Person(key, f"{key}@year.example", role, comps, digest, notices, created=self.now)
        user = factories.make_user(role, self.comps(comps), email=person.email, display_name=key.title())
        frequency = {
            "daily": DigestFrequency.DAILY,
            "weekly": DigestFrequency.WEEKLY,
            "off": DigestFrequency.OFF,
        }
        preferences.save(db.session, user, frequency[digest], [NoticeKind(n).value for n in notices])
        person.user_id = user.id
        self.sim.people[key] = person
        return person

    def comps(self, abbreviations: Any) -> list[Component]:
        """The components, read in the current session (the objects of an earlier one are detached)."""
        return [db.session.get(Component, self.components[c]) for c in abbreviations]  # type: ignore[misc]

    def user(self, key: str) -> User:
        found = db.session.scalar(
            sa.select(User)
            .where(User.id == self.sim.people[key].user_id)
            .options(selectinload(User.components))
        )
        assert found is not None
        return found

    def acting_for(self, comp: str) -> str:
        if comp == "FEMA":
            return "fema"
        if comp == "CBP":
            return "cbp"
        if self.now < at(START + timedelta(days=HANDOVER_DAY), 13):
            return "east"  # I&A and TSA until the handover
        return "ia2" if comp == "I&A" else "tsa"

    def text(self, what: str) -> str:
        value = f"SIMTEXT {what} {next(self.serial)} of the simulated year"
        self.sim.texts.append(value)
        return value

    # -- entering recommendations --

    def enter_report(self, size: int, age_days: int) -> list[Rec]:
        n = next(self.report_serial)
        restricted = self.rng.random() < 0.15
        issued = self.today - timedelta(days=age_days)
        report = factories.make_report(
            number=f"SIM-{n:03d}", title=f"Simulated report {n}", issued_on=issued, restricted=restricted
        )
        made = []
        for number in range(1, size + 1):
            comps = self.rng.sample(COMPONENTS, 2 if self.rng.random() < 0.3 else 1)
            rec_restricted = restricted or self.rng.random() < 0.1
            row = factories.make_recommendation(
                report,
                self.comps(comps),
                number=number,
                text=self.text("recommendation"),
                restricted=rec_restricted,
                tracked_since=self.today,
                with_history=True,
            )
            rec = Rec(
                row.id,
                report.number or "",
                number,
                issued,
                self.today,
                not rec_restricted,
                not restricted,
                report.id,
                [Part(a.id, c) for a, c in zip(row.addressees, comps, strict=True)],
            )
            self.sim.recs.append(rec)
            self.log("Issued", rec, None, None, status_after="U", effective=issued)
            made.append(rec)
        return made

    # -- steps, in the app and in the model --

    def log(self, label: str, rec: Rec, part: Part | None, actor: str | None, **kw: Any) -> Event:
        event = Event(label, rec, part, actor, self.now, self.today, **kw)
        self.sim.events.append(event)
        self.sim.notices(event)
        return event

    def ctx(self, key: str) -> workflow.Context:
        return workflow.Context(user=self.user(key), today=self.today, revised_response_days=REVISED)

    def row(self, rec: Rec) -> Any:
        return factories.load_recommendation(rec.id)

    def addressee(self, row: Any, part: Part) -> Any:
        return next(a for a in row.addressees if a.id == part.id)

    def respond(self, rec: Rec, p: Part, target: date) -> None:
        actor = self.acting_for(p.comp)
        row = self.row(rec)
        label = "Response revised" if p.response == "submitted" else "Response submitted"
        workflow.submit_response(
            db.session,
            self.ctx(actor),
            row,
            self.addressee(row, p),
            workflow.ResponseData(
                Concurrence.CONCUR, self.text("response"), self.text("plan"), target, "A responsible official"
            ),
        )
        moved = False
        if target != p.target:
            moved = p.last_target_event is not None and p.last_target_event != target
            p.last_target_event = target
        p.response, p.response_date, p.target = "submitted", self.today, target
        self.log(label, rec, p, actor, target_moved=moved)

    def accept(self, rec: Rec, p: Part) -> None:
        row = self.row(rec)
        workflow.accept_response(db.session, self.ctx("oig"), row, self.addressee(row, p), self.text("note"))
        p.response = "accepted"
        self.log("Response accepted", rec, p, "oig")

    def reason(self, rec: Rec) -> str:
        value = f"SIMREASON {next(self.serial)}"
        if rec.rec_public:
            self.sim.public_reasons.add(value)
        else:
            self.sim.texts.append(value)
        return value

    def return_response(self, rec: Rec, p: Part) -> None:
        row = self.row(rec)
        workflow.return_response(db.session, self.ctx("oig"), row, self.addressee(row, p), self.reason(rec))
        p.response, p.response_due_on = "returned", self.today + timedelta(days=REVISED)
        self.log("Response returned", rec, p, "oig")

    def resolve(self, rec: Rec) -> None:
        workflow.resolve(db.session, self.ctx("oig"), self.row(rec), self.text("decision"))
        rec.status, rec.resolved_on = "R", self.today
        for p in rec.parts:
            if p.response == "submitted":
                p.response = "accepted"
        self.log("Resolved", rec, None, "oig", status_after="R", effective=self.today)

    def update(self, rec: Rec, p: Part, new_target: date | None) -> None:
        actor = self.acting_for(p.comp)
        row = self.row(rec)
        data = workflow.UpdateData(
            self.text("update"), new_target, "The work took longer." if new_target else ""
        )
        workflow.post_update(db.session, self.ctx(actor), row, self.addressee(row, p), data)
        moved = False
        if new_target is not None and new_target != p.target:
            moved = p.last_target_event is not None and p.last_target_event != new_target
            p.last_target_event = new_target
            p.target = new_target
        p.last_update = self.today
        self.log("Progress update", rec, p, actor, target_moved=moved)

    def request_closure(self, rec: Rec, p: Part) -> None:
        actor = self.acting_for(p.comp)
        row = self.row(rec)
        workflow.request_closure(
            db.session, self.ctx(actor), row, self.addressee(row, p), self.text("justification")
        )
        p.closure, p.closure_on = "requested", self.today
        self.log("Closure requested", rec, p, actor)

    def return_closure(self, rec: Rec, p: Part) -> None:
        row = self.row(rec)
        workflow.return_closure(db.session, self.ctx("oig"), row, self.addressee(row, p), self.reason(rec))
        p.closure, p.closure_on = "returned", self.today
        self.log("Closure request returned", rec, p, "oig")

    def close(self, rec: Rec, implemented: bool) -> None:
        note = "" if implemented else self.text("closing note")
        workflow.close(db.session, self.ctx("oig"), self.row(rec), implemented=implemented, note=note)
        rec.status = "CI" if implemented else "CN"
        for p in rec.parts:
            if p.closure == "requested":
                p.closure = "accepted" if implemented else "none"
        self.log("Closed", rec, None, "oig", status_after=rec.status, effective=self.today)

    def reopen(self, rec: Rec) -> None:
        workflow.reopen(db.session, self.ctx("oig"), self.row(rec), self.text("reopening"))
        rec.status, rec.resolved_on = "U", None
        for p in rec.parts:
            p.response, p.closure, p.response_due_on = "none", "none", self.today + timedelta(days=REOPENED)
        self.log("Reopened", rec, None, "oig", status_after="U", effective=self.today)

    # -- a recommendation's life: waits (in days) and actions --

    def life(self, rec: Rec) -> Iterator[int]:
        rng = random.Random(rec.id * 7919 + 17)
        if rng.random() < 0.04:
            yield rng.randint(120, 200)
            self.close(rec, implemented=False)
            return
        for cycle in range(2):
            for p in rec.parts:
                yield rng.randint(5, 110)
                self.respond(rec, p, self.today + timedelta(days=rng.randint(30, 240)))
                while True:
                    yield rng.randint(2, 20)
                    if rng.random() < 0.25:
                        self.return_response(rec, p)
                        yield rng.randint(5, 45)
                        assert p.target is not None
                        keep = p.target >= self.today and rng.random() < 0.5
                        self.respond(
                            rec, p, p.target if keep else self.today + timedelta(days=rng.randint(30, 200))
                        )
                        continue
                    self.accept(rec, p)
                    break
            yield rng.randint(1, 10)
            self.resolve(rec)
            if cycle == 1:
                return  # a reopened recommendation stays Open–Resolved
            for _ in range(rng.randint(0, 3)):
                yield rng.randint(45, 120)
                moved = rng.random() < 0.3
                self.update(
                    rec,
                    rng.choice(rec.parts),
                    self.today + timedelta(days=rng.randint(30, 150)) if moved else None,
                )
            while True:
                for p in rec.parts:
                    if p.closure in ("none", "returned"):
                        yield rng.randint(5, 60)
                        self.request_closure(rec, p)
                yield rng.randint(5, 30)
                if rng.random() < 0.25:
                    self.return_closure(rec, rng.choice(rec.parts))
                    continue
                self.close(rec, implemented=True)
                break
            if rng.random() >= 0.08:
                return
            yield rng.randint(10, 60)
            self.reopen(rec)


def run_tasks(app: Flask, *names: str) -> None:
    """Run the beat tasks the way a worker does (inside the app), by name."""
    with app.app_context():
        for name in names:
            {"digests": tasks.plan_digests, "deliver": tasks.deliver}[name].run()
        db.session.remove()


def test_a_simulated_year_sends_every_expected_message_exactly_once(year_app: Flask) -> None:
    app = year_app
    smtp = MailServer()
    smtp.start()
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
    app.config.update(
        MAIL_DIGEST_LOOKAHEAD_DAYS=LOOKAHEAD, UPDATE_INTERVAL_DAYS=INTERVAL, REVISED_RESPONSE_DAYS=REVISED
    )
    sim = Sim()
    rng = random.Random(2026)
    world = World(app, sim, rng)
    lives: list[tuple[date, int, int, Iterator[int]]] = []  # (day, hour, tie-break, life)
    order = itertools.count()
    during_outage = queued = sent_before_outage = 0
    try:
        with time_machine.travel(at(START, 0), tick=False) as traveller:

            def move(day: date, hour: int, minute: int = 0) -> None:
                world.today, world.now = day, at(day, hour, minute)
                traveller.move_to(world.now)

            def schedule(life: Iterator[int]) -> None:
                try:
                    wait = next(life)
                except StopIteration:
                    return
                day = world.today + timedelta(days=wait)
                heapq.heappush(
                    lives, (day, rng.choice((NIGHT, DAYTIME, DAYTIME, EVENING)), next(order), life)
                )

            with app.app_context():
                audit.set_actor(db.session, audit.AuditActor.system("tests: simulated year"))
                move(START, 0, 5)
                for c in COMPONENTS:
                    world.components[c] = factories.make_component(c, f"Simulated {c}").id
                all_notices = tuple(k.value for k in NoticeKind)
                world.person(
                    "fema",
                    Role.LIAISON,
                    ("FEMA",),
                    "daily",
                    ("response_returned", "decision_made", "reopened", "new_recommendation"),
                )
                world.person("cbp", Role.LIAISON, ("CBP",), "weekly", ("response_returned", "decision_made"))
                world.person(
                    "east",
                    Role.LIAISON,
                    ("I&A", "TSA"),
                    "daily",
                    ("new_recommendation", "reopened", "response_returned"),
                )
                world.person("tsa", Role.LIAISON, ("TSA",), "off", ("new_recommendation", "reopened"))
                world.person("oig", Role.OIG, (), "daily", ("target_moved",))
                world.person("oig2", Role.OIG, (), "weekly", ("decision_made",))  # a liaison kind: never sent
                world.person("admin", Role.ADMIN, (), "weekly", ())
                viewer = world.person("viewer", Role.VIEWER, (), "daily", all_notices)  # viewers: no digest
                db.session.commit()
                # 100 recommendations at the start, issued up to 80 days before tracking began
                for size in (5, 4, 6, 3, 5, 4, 2, 6, 5, 4, 6, 3, 5, 4, 6, 3, 5, 4, 6, 5, 4, 5):
                    for rec in world.enter_report(size, rng.randint(0, 80)):
                        schedule(world.life(rec))
                public_reports = sorted({r.report_id for r in sim.recs if r.report_public})[:2]
                viewer_user = world.user("viewer")
                for report_id in public_reports:
                    follows.follow(db.session, viewer_user, follows.REPORT, report_id)
                follows.follow(db.session, viewer_user, follows.COMPONENT, world.components["CBP"])
                db.session.commit()
                entry_days = sorted(rng.sample(range(1, 330), 50))
                db.session.remove()

            for offset in range(DAYS):
                day = START + timedelta(days=offset)
                if offset == OUTAGE[0]:
                    sent_before_outage = len(smtp.received)
                    smtp.stop()
                if offset == OUTAGE[1] + 1:
                    during_outage = len(smtp.received) - sent_before_outage
                    smtp.start()
                with app.app_context():
                    audit.set_actor(db.session, audit.AuditActor.system("tests: simulated year"))
                    do_work(world, lives, schedule, move, day, NIGHT)
                move(day, 6)
                sim.digests(day, world.now)
                if day.weekday() == 0:
                    sim.summaries(day, viewer, set(public_reports), "CBP")
                run_tasks(app, "digests", "digests")  # a second scheduler adds nothing
                if offset == OUTAGE[1] + 1:
                    queued = len(smtp.received) - sent_before_outage
                with app.app_context():
                    audit.set_actor(db.session, audit.AuditActor.system("tests: simulated year"))
                    if offset == SWITCH_DAY:
                        move(day, 9)
                        fema = world.user("fema")
                        _, notices, version = preferences.current(db.session, fema)
                        preferences.save(db.session, fema, DigestFrequency.WEEKLY, notices, version)
                        db.session.commit()
                    if offset in entry_days:
                        move(day, DAYTIME)
                        for rec in world.enter_report(rng.randint(1, 6), rng.randint(0, 30)):
                            schedule(world.life(rec))
                        db.session.commit()
                    do_work(world, lives, schedule, move, day, DAYTIME)
                move(day, 12)
                run_tasks(app, "deliver")
                if offset == HANDOVER_DAY:
                    with app.app_context():
                        audit.set_actor(db.session, audit.AuditActor.system("tests: simulated year"))
                        move(day, 13)
                        assert world.now == at(START + timedelta(days=HANDOVER_DAY), 13)
                        east = world.user("east")
                        east.active = False
                        sim.people["east"].gone = world.now
                        world.person(
                            "ia2",
                            Role.LIAISON,
                            ("I&A",),
                            "daily",
                            ("response_returned", "decision_made", "new_recommendation"),
                        )
                        db.session.commit()
                        db.session.remove()
                with app.app_context():
                    audit.set_actor(db.session, audit.AuditActor.system("tests: simulated year"))
                    do_work(world, lives, schedule, move, day, EVENING)
                move(day, 23, 30)
                sim.digests(day, world.now)
                run_tasks(app, "digests", "deliver")
    finally:
        smtp.stop()

    # The outage: nothing arrived while the server was down; the backlog arrived at once.
    if OUTAGE[1] + 1 < DAYS:
        assert during_outage == 0
        assert queued > 0

    got = Counter(received(m) for m in smtp.received)
    want = Counter(sim.expected)
    missing = want - got
    unexpected = got - want
    assert (sum(missing.values()), sum(unexpected.values())) == (0, 0), (
        f"{sum(missing.values())} missed, {sum(unexpected.values())} unexpected:\n"
        + explain(list(missing.elements()), list(unexpected.elements()))
    )
    ids = Counter(m["Message-ID"] for m in smtp.received)
    assert [i for i, n in ids.items() if n > 1] == []  # 0 duplicates
    kinds = Counter(_kind(e) for e in sim.expected)
    # the year exercised every kind of message, many times
    assert kinds["liaison digest"] > 300, kinds
    assert kinds["staff digest"] > 300, kinds
    assert kinds["follower summary"] > 20, kinds
    assert kinds["notice"] > 300, kinds
    # no text at all, and a return reason only for a public recommendation
    for message in smtp.received:
        body = text_of(message) + str(message.get_body(preferencelist=("html",)).get_content())
        assert "SIMTEXT" not in body
        assert [r for r in re.findall(r"SIMREASON \d+", body) if r not in sim.public_reasons] == []


def explain(missing: list[Expected], unexpected: list[Expected], at_most: int = 4) -> str:
    """The first differences, message by message: the lines one side has and the other lacks."""
    out = []
    for want in sorted(missing)[:at_most]:
        twin = next((u for u in unexpected if u[0] == want[0] and u[2] == want[2] and u[2]), None)
        if twin is None:
            out.append(f"missed: {want[:3]}")
            continue
        only_wanted, only_got = sorted(set(want[3]) - set(twin[3])), sorted(set(twin[3]) - set(want[3]))
        out.append(
            f"{want[0]} {want[2]}: subject {want[1]!r} / got {twin[1]!r}; "
            f"expected only {only_wanted}; got only {only_got}"
        )
    out += [
        f"unexpected: {u[:3]}"
        for u in sorted(unexpected)[:at_most]
        if not any(u[2] == m[2] and u[0] == m[0] for m in missing)
    ]
    return "\n".join(out)


def _kind(expected: Expected) -> str:
    subject = expected[1]
    if subject.startswith("RecTrack digest:"):
        return "liaison digest"
    if "items await the OIG" in subject:
        return "staff digest"
    if "in what you follow" in subject:
        return "follower summary"
    return "notice"


def do_work(world: World, lives: list[Any], schedule: Any, move: Any, day: date, hour: int) -> None:
    """Take every action due at this hour of this day (local), then commit."""
    move(day, hour)
    due = []
    while lives and (lives[0][0], lives[0][1]) <= (day, hour):
        due.append(heapq.heappop(lives))
    for when, _, _, life in due:
        assert when == day, "an action was left behind"
        schedule(life)
    db.session.commit()
    db.session.remove()
