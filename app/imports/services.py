"""Bulk import of reports, recommendations and addressees from a spreadsheet.

Two passes. First every row is read and checked on its own and against the other rows
(formats, required values, known components, duplicates, contradictions), and every
problem is listed by row and column. Then, only if there is none, the rows are applied
through the same services the forms use, inside a savepoint: their rules (unique numbers,
one lead, restricted reports) apply unchanged, and a dry run is the real import rolled
back. Everything or nothing: any problem rolls the whole file back.

Keys: a report by its number (by its exact title while the number is unknown), a
recommendation by its report and number (by its exact text when the number is "not
known"), an addressee by its component. What the file
does not mention is left as it is; importing the same file twice changes nothing."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import audit, issue_dates
from app.audit import AuditActor
from app.exports.columns import PLACEHOLDER
from app.imports.reader import Sheet
from app.issue_dates import IssueDate
from app.models import (
    Component,
    Concurrence,
    IssuePrecision,
    Recommendation,
    Report,
    ReportType,
    Sensitivity,
    TextSource,
)
from app.models.recommendation import RecKey, rec_key
from app.recommendations import priority, repeats
from app.recommendations import services as rec_services
from app.reports import queries as report_queries
from app.reports import services as report_services
from app.text import has_control_characters, is_not_known

NUMBER_RE = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")
MONEY_MAX = Decimal("999999999999.99")
KINDS = ("reports", "recommendations", "addressees")
CONTROL_CHARACTER_CELL = (
    "Holds a control character (such as NUL) that RecTrack does not store; remove it. "
    "Tabs and line breaks are fine."
)


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return "; ".join(
            f"{k}: {self.created[k]} new, {self.updated[k]} changed, {self.unchanged[k]} unchanged"
            for k in KINDS
        )


# --- cells ------------------------------------------------------------------------------


class CellError(ValueError):
    """One cell's value cannot be used; the message says what to write."""


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"yes", "y", "true", "1", "x"}:
        return True
    if value in {"no", "n", "false", "0", ""}:
        return False
    raise CellError("Write yes or no.")


def _bool_or_none(text: str) -> bool | None:
    """yes or no; blank: not listed (None)."""
    return _bool(text) if text.strip() else None


def _date(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise CellError("Write a real date as YYYY-MM-DD, for example 2011-12-06.") from None


def _issue_date(text: str) -> IssueDate | None:
    """2024-09-27, 2024-09 or FY2024, or "not known" (None); read as ReportData's
    issued_on and issued_precision. A blank is a problem: an issue date left out by
    mistake must not pass as one not known."""
    if not text.strip():
        raise CellError(issue_dates.MESSAGE)
    try:
        return issue_dates.parse_or_not_known(text)
    except issue_dates.IssueDateError as exc:
        raise CellError(str(exc)) from None


def _whole(low: int, high: int) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        if not text.strip():
            return None
        try:
            value = int(text.strip())
        except ValueError:
            value = high + 1
        if not low <= value <= high:
            raise CellError(f"Write a whole number from {low} to {high}.")
        return value

    return parse


def _money(text: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise CellError("Write an amount in dollars, such as 1250000.00.") from None
    if not value.is_finite() or value < 0:
        raise CellError("Write an amount in dollars, not negative.")
    if value > MONEY_MAX or value != value.quantize(Decimal("0.01")):
        raise CellError("The amount is too large or has more than two decimal places.")
    return value


def _choice(enum_cls: Any, default: Any) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if not text.strip():
            return default
        wanted = re.sub(r"[\s_–-]+", " ", text.strip().lower())
        for member in enum_cls:
            if wanted in (member.value.replace("_", " "), re.sub(r"[\s_–-]+", " ", member.label.lower())):
                return member
        raise CellError(f"“{text}” is not one of: {', '.join(m.value for m in enum_cls)}.")

    return parse


def _text(limit: int, message: str | None = None) -> Callable[[str], str]:
    def parse(text: str) -> str:
        text = text.strip()
        if message and not text:
            raise CellError(message)
        if len(text) > limit:
            raise CellError(f"Keep it under {limit:,} characters.")
        return text

    return parse


def _report_number(text: str) -> str | None:
    text = text.strip().upper()
    if not text:
        return None
    if len(text) > 40 or not NUMBER_RE.match(text):
        raise CellError("Use letters, digits and single hyphens, such as OIG-12-15.")
    return text


def _url(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not text.lower().startswith(("https://", "http://")) or len(text) > 500:
        raise CellError("Write a full web address starting with https://.")
    return text


def _rec_text(text: str) -> str:
    text = _text(20000, "Write the recommendation's text.")(text)
    if text == PLACEHOLDER:
        raise CellError(
            "This row is a restricted placeholder from an export by someone who may not read it; "
            "it holds no recommendation text to import."
        )
    return text


# column: (field name on the model's data class, parser)
REPORT_COLUMNS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "report_number": ("number", _report_number),
    "report_title": ("title", _text(500, "Write the report's title.")),
    "report_issuing_office": ("issuing_office", lambda t: _text(120)(t) or "DHS OIG"),
    "report_issued_on": ("issued_on", _issue_date),
    "report_issued_on_approximate": ("issued_on_approximate", _bool),
    "report_type": ("report_type", _choice(ReportType, None)),
    "report_sensitivity": ("sensitivity", _choice(Sensitivity, Sensitivity.PUBLIC)),
    "report_url": ("url", _url),
    "report_recommendations_published": ("recommendations_published", _whole(0, 999)),
}
REC_COLUMNS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "rec_text": ("text", _rec_text),
    "rec_text_source": ("text_source", _choice(TextSource, TextSource.VERBATIM)),
    "rec_source_url": ("source_url", _url),
    "rec_significant": ("significant", _bool_or_none),
    "rec_questioned_costs": ("questioned_costs", _money),
    "rec_funds_put_to_better_use": ("funds_put_to_better_use", _money),
    "rec_sensitivity": ("sensitivity", _choice(Sensitivity, None)),
}
# Priority flag and repeat link: applied after every recommendation of the file exists.
LINK_COLUMNS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "priority": ("priority", _bool),
    "priority_reason": ("priority_reason", _text(2000)),
    "repeats_report": ("repeats_report", _text(500)),
    "repeats_number": ("repeats_number", _whole(1, 999)),
}
ADDRESSEE_COLUMNS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "lead": ("is_lead", _bool),
    "concurrence": ("concurrence", _choice(Concurrence, Concurrence.PENDING)),
    "response": ("response", _text(20000)),
    "response_date": ("response_date", _date),
}


# --- first pass: rows ----------------------------------------------------------------------


@dataclass
class AddresseeIn:
    row: int
    component: Component
    values: dict[str, Any]  # only the columns the file has


@dataclass
class RecIn:
    row: int
    number: int | None  # None: "not known" (identified by its text)
    values: dict[str, Any]
    addressees: list[AddresseeIn] = field(default_factory=list)
    links: dict[str, Any] = field(default_factory=dict)  # LINK_COLUMNS the file has
    outcome: str = ""  # how apply_rows counted it: created, updated or unchanged
    # The id of the recommendation it names, once found or created (an id, not the object:
    # holding every object of a large file would keep them all in memory).
    rec_id: int | None = None


@dataclass
class ReportIn:
    row: int
    key: tuple[str, str]
    values: dict[str, Any]
    components: list[Component] | None  # None: the file has no report_components column
    recs: dict[RecKey, RecIn] = field(default_factory=dict)


class _Reader:
    """Reads rows, noting every problem against its row and column."""

    def __init__(self, session: Session, sheet: Sheet, result: ImportResult) -> None:
        self.columns = set(sheet.columns)
        self.sheet = sheet
        self.result = result
        self.components = {c.abbreviation.lower(): c for c in session.scalars(sa.select(Component))}
        self.reports: dict[tuple[str, str], ReportIn] = {}

    def known(self) -> str:
        names = sorted((c.abbreviation for c in self.components.values()), key=str.lower)
        return f"Use an abbreviation from the Components page: {', '.join(names)}."

    def problem(self, row: int, column: str | None, message: str) -> None:
        self.result.problems.append(Problem(row, column, message))

    def cells(
        self,
        row: int,
        values: dict[str, str],
        table: dict[str, tuple[str, Callable[[str], Any]]],
        always: tuple[str, ...] = (),
    ) -> dict[str, Any] | None:
        """Parse the table's columns present in the file (plus `always`); None on any problem."""
        out, ok = {}, True
        for column, (name, parse) in table.items():
            if column not in self.columns and column not in always:
                continue
            try:
                out[name] = parse(values.get(column, ""))
            except CellError as exc:
                self.problem(row, column, str(exc))
                ok = False
        return out if ok else None

    def same(
        self,
        first: dict[str, Any],
        first_row: int,
        other: dict[str, Any],
        row: int,
        table: dict[str, tuple[str, Callable[[str], Any]]],
    ) -> None:
        column_of = {name: column for column, (name, _p) in table.items()}
        for name, value in other.items():
            if name in first and first[name] != value:
                self.problem(row, column_of[name], f"Differs from row {first_row} for the same item.")

    def report_components(self, row: int, text: str) -> list[Component] | None:
        names = [n.strip() for n in text.split(";") if n.strip()]
        unknown = [n for n in names if n.lower() not in self.components]
        if unknown:
            self.problem(row, "report_components", f"Unknown component: {', '.join(unknown)}. {self.known()}")
            return None
        return sorted({self.components[n.lower()] for n in names}, key=lambda c: c.abbreviation)

    def read(self) -> list[ReportIn]:
        for row, values in self.sheet.rows:
            self.result.rows += 1
            refused = [column for column, text in values.items() if has_control_characters(text)]
            for column in refused:
                self.problem(row, column, CONTROL_CHARACTER_CELL)
            if not refused:
                self.read_row(row, values)
        for report in self.reports.values():
            for rec in report.recs.values():
                leads = [a for a in rec.addressees if a.values.get("is_lead")]
                if len(leads) > 1:
                    self.problem(
                        leads[1].row, "lead", f"Only one lead per recommendation (row {leads[0].row} is one)."
                    )
        return list(self.reports.values())

    def read_row(self, row: int, values: dict[str, str]) -> None:
        report_values = self.cells(row, values, REPORT_COLUMNS, always=("report_title", "report_issued_on"))
        components = (
            self.report_components(row, values.get("report_components", ""))
            if "report_components" in self.columns
            else None
        )
        if report_values is None:
            return
        key = (
            ("number", report_values["number"])
            if report_values.get("number")
            else ("title", report_values["title"])
        )
        report = self.reports.get(key)
        if report is None:
            report = self.reports[key] = ReportIn(row, key, report_values, components)
        else:
            self.same(report.values, report.row, report_values, row, REPORT_COLUMNS)
            if components is not None and report.components is not None and components != report.components:
                self.problem(row, "report_components", f"Differs from row {report.row} for the same report.")

        if not values.get("rec_number", "").strip():
            if any(values.get(c, "").strip() for c in (*REC_COLUMNS, "component")):
                self.problem(row, "rec_number", "Write the recommendation's number, or “not known”.")
            return  # a report with no recommendation entered
        number: int | None = None
        if not is_not_known(values["rec_number"]):
            try:
                number = _whole(1, 999)(values["rec_number"])
            except CellError as exc:
                self.problem(row, "rec_number", str(exc))
                return
        rec_values = self.cells(row, values, REC_COLUMNS, always=("rec_text",))
        link_values = self.cells(row, values, LINK_COLUMNS)
        if rec_values is None or link_values is None or not self.links_ok(row, link_values):
            return
        rec_id = rec_key(number, rec_values.get("text", ""))
        rec = report.recs.get(rec_id)
        if rec is None:
            rec = report.recs[rec_id] = RecIn(row, number, rec_values, links=link_values)
        else:
            self.same(rec.values, rec.row, rec_values, row, REC_COLUMNS)
            self.same(rec.links, rec.row, link_values, row, LINK_COLUMNS)
        self.read_addressee(row, values, rec)

    def links_ok(self, row: int, links: dict[str, Any]) -> bool:
        """A priority flag has a reason; a repeat link names both report and number."""
        ok = True
        if links.get("priority") and not links.get("priority_reason"):
            self.problem(
                row,
                "priority_reason",
                "A priority recommendation needs a reason: write it in priority_reason.",
            )
            ok = False
        for column, other in (("repeats_report", "repeats_number"), ("repeats_number", "repeats_report")):
            if other in self.columns and links.get(other) and not links.get(column):
                what = "report number" if column == "repeats_report" else "recommendation number"
                self.problem(
                    row, column, f"Write the earlier {what} too, or leave both repeat columns blank."
                )
                ok = False
        return ok

    def read_addressee(self, row: int, values: dict[str, str], rec: RecIn) -> None:
        name = values.get("component", "").strip()
        if not name:
            self.problem(
                row, "component", "Write the component this recommendation is addressed to, such as FEMA."
            )
            return
        component = self.components.get(name.lower())
        if component is None:
            self.problem(row, "component", f"Unknown component: {name}. {self.known()}")
            return
        clash = next((a for a in rec.addressees if a.component.id == component.id), None)
        if clash is not None:
            self.problem(
                row,
                "component",
                f"{component.abbreviation} is already on row {clash.row} for this recommendation.",
            )
            return
        addressee_values = self.cells(row, values, ADDRESSEE_COLUMNS)
        if addressee_values is not None:
            rec.addressees.append(AddresseeIn(row, component, addressee_values))


# --- second pass: applying ----------------------------------------------------------------


def _report_data(report: Report | None, incoming: ReportIn) -> report_services.ReportData:
    """The report as it should be: what it is now, with what the file says on top."""
    components: dict[str, Any] = (  # like incoming.values: ReportData fields by name
        {"component_ids": sorted(c.id for c in incoming.components)}
        if incoming.components is not None
        else {}
    )
    values = dict(incoming.values)
    if "issued_on" in values:
        issue: IssueDate | None = values.pop("issued_on")  # None: "not known"
        values.update(
            issued_on=issue.on if issue else None,
            issued_precision=issue.precision if issue else IssuePrecision.DAY,
        )
    if report is None:
        return report_services.ReportData(**values, **{"component_ids": [], **components})
    return replace(report_services.ReportData.of(report), **values, **components)


def _rec_data(rec: Recommendation | None, incoming: RecIn, report: Report) -> rec_services.RecommendationData:
    """The recommendation as it should be; addressees the file does not name stay."""
    values = dict(incoming.values)
    if values.get("sensitivity") is None:
        values["sensitivity"] = rec.sensitivity if rec is not None else report.sensitivity
    base = (
        rec_services.RecommendationData.of(rec)
        if rec is not None
        else rec_services.RecommendationData(number=incoming.number, text="")
    )
    rows = {a.component_id: a for a in base.addressees}
    for a in incoming.addressees:
        before = rows.get(a.component.id) or rec_services.AddresseeData(a.component.id)
        rows[a.component.id] = replace(before, **a.values)
    if len(rows) == 1:
        rows = {cid: replace(a, is_lead=True) for cid, a in rows.items()}  # as the form does
    return replace(base, **values, addressees=list(rows.values()))


def _find_report(session: Session, key: tuple[str, str]) -> Report | None:
    kind, value = key
    number, title = (value, "") if kind == "number" else (None, value)
    return session.scalar(report_queries.report_by_identity(number, title))


def _count_addressees(
    result: ImportResult,
    before: rec_services.RecommendationData | None,
    after: rec_services.RecommendationData,
) -> None:
    old = {a.component_id: a for a in (before.addressees if before else [])}
    for a in after.addressees:
        if a.component_id not in old:
            result.created["addressees"] += 1
        elif old[a.component_id] != a:
            result.updated["addressees"] += 1
        else:
            result.unchanged["addressees"] += 1


_REPORT_ERROR_COLUMNS = {
    "number": "report_number",
    "issued_on": "report_issued_on",
    "recommendations_published": "report_recommendations_published",
    "components": "report_components",
}
_REC_ERROR_COLUMNS = {"number": "rec_number", "text": "rec_text", "sensitivity": "rec_sensitivity"}
_ADDRESSEE_ERROR_COLUMNS = {"component_id": "component", "is_lead": "lead", "response_date": "response_date"}


def _rec_problem(
    exc: rec_services.RecommendationError, incoming: RecIn, data: rec_services.RecommendationData
) -> Problem:
    path = exc.field or ""
    if path.startswith("addressees."):
        _, index, name = path.split(".", 2)
        i = int(index)
        component_id = data.addressees[i].component_id if i < len(data.addressees) else None
        row = next((a.row for a in incoming.addressees if a.component.id == component_id), incoming.row)
        return Problem(row, _ADDRESSEE_ERROR_COLUMNS.get(name), str(exc))
    return Problem(incoming.row, _REC_ERROR_COLUMNS.get(path), str(exc))


def apply_rows(
    session: Session,
    actor: AuditActor,
    reports: list[ReportIn],
    result: ImportResult,
    *,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Create or change what differs, through the same services as the forms. A change to
    something already in RecTrack has its own savepoint, so one refusal is reported and the
    rest still checked. New reports and recommendations are checked before anything is
    added (a refused one leaves nothing behind) and flushed together, about FLUSH_EVERY_RECS
    at a time: one flush, with its audit and index work, per batch instead of per item."""
    batch: list[tuple[RecIn, Recommendation]] = []  # created, waiting for the flush's ids
    for incoming in reports:
        with session.no_autoflush:  # nothing pending can match: the file names each report once
            report = _find_report(session, incoming.key)
        if report is None:
            _create_report(session, actor, incoming, result, batch, today=today)
        else:
            _change_report(session, actor, report, incoming, result, batch, today=today)
        if len(batch) >= FLUSH_EVERY_RECS:
            _flush(session, batch)
        if progress:
            progress(1)
    _flush(session, batch)
    _apply_links(session, reports, result)
    for incoming in reports:
        for rec_in in incoming.recs.values():
            if rec_in.outcome:
                getattr(result, rec_in.outcome)["recommendations"] += 1


# New recommendations are flushed in batches of about this many (with their reports).
FLUSH_EVERY_RECS = 500


def _flush(session: Session, batch: list[tuple[RecIn, Recommendation]]) -> None:
    """Write the batch; its recommendations now have ids, which the links pass reads."""
    session.flush()
    for rec_in, rec in batch:
        rec_in.rec_id = rec.id
    batch.clear()


def _create_report(
    session: Session,
    actor: AuditActor,
    incoming: ReportIn,
    result: ImportResult,
    batch: list[tuple[RecIn, Recommendation]],
    *,
    today: date,
) -> None:
    """A report new to RecTrack, with its recommendations, added but not flushed."""
    data = _report_data(None, incoming)
    with session.no_autoflush:
        try:
            report = report_services.create_report(session, data, today=today, flush=False)
        except report_services.ReportError as exc:
            result.problems.append(
                Problem(incoming.row, _REPORT_ERROR_COLUMNS.get(exc.field or ""), str(exc))
            )
            return
        result.created["reports"] += 1
        _create_recs(session, actor, report, incoming, result, batch, today=today)


def _create_recs(
    session: Session,
    actor: AuditActor,
    report: Report,
    incoming: ReportIn,
    result: ImportResult,
    batch: list[tuple[RecIn, Recommendation]],
    *,
    today: date,
    keys: list[RecKey] | None = None,
) -> None:
    """The file's recommendations not yet in RecTrack (`keys`; all by default), checked in
    the file's order by the form's rules and added, unflushed, to `batch`."""
    keys = sorted(incoming.recs) if keys is None else keys
    if not keys:
        return
    wanted = [(incoming.recs[key], _rec_data(None, incoming.recs[key], report)) for key in keys]
    created = rec_services.create_recommendations(
        session, actor, report, [after for _rec_in, after in wanted], today=today, flush=False
    )
    for (rec_in, after), outcome in zip(wanted, created, strict=True):
        if isinstance(outcome, rec_services.RecommendationError):
            result.problems.append(_rec_problem(outcome, rec_in, after))
        else:
            rec_in.outcome = "created"
            batch.append((rec_in, outcome))
            _count_addressees(result, None, after)


def _change_report(
    session: Session,
    actor: AuditActor,
    report: Report,
    incoming: ReportIn,
    result: ImportResult,
    batch: list[tuple[RecIn, Recommendation]],
    *,
    today: date,
) -> None:
    """A report already in RecTrack: change what differs, each change in its savepoint;
    the recommendations it does not have yet join `batch`."""
    data = _report_data(report, incoming)
    savepoint = session.begin_nested()
    try:
        if data != report_services.ReportData.of(report):
            report_services.update_report(session, report, data, today=today)
            result.updated["reports"] += 1
        else:
            result.unchanged["reports"] += 1
    except report_services.ReportError as exc:
        savepoint.rollback()
        result.problems.append(Problem(incoming.row, _REPORT_ERROR_COLUMNS.get(exc.field or ""), str(exc)))
        return
    savepoint.commit()
    existing = {rec_key(r.number, r.text): r for r in report.recommendations}
    new: list[RecKey] = []
    for key in sorted(incoming.recs):
        rec_in, rec = incoming.recs[key], existing.get(key)
        if rec is None:
            new.append(key)
            continue
        rec_in.rec_id = rec.id
        before = rec_services.RecommendationData.of(rec)
        after = _rec_data(rec, rec_in, report)
        if after == before:
            rec_in.outcome = "unchanged"
            _count_addressees(result, before, after)
            continue
        savepoint = session.begin_nested()
        try:
            rec_services.update_recommendation(session, actor, rec, after, today=today)
        except rec_services.RecommendationError as exc:
            savepoint.rollback()
            result.problems.append(_rec_problem(exc, rec_in, after))
            continue
        savepoint.commit()
        rec_in.outcome = "updated"
        _count_addressees(result, before, after)
    _create_recs(session, actor, report, incoming, result, batch, today=today, keys=new)


_LINK_ERROR_COLUMNS = {
    "reason": "priority_reason",
    "repeats_report": "repeats_report",
    "repeats_number": "repeats_number",
    "note": "repeats_report",
}


def _apply_links(session: Session, reports: list[ReportIn], result: ImportResult) -> None:
    """Priority flags and repeat links, once every recommendation of the file exists (a
    link may name one further down the file). A link's rules (it exists, is not itself,
    makes no cycle, is to an earlier report) are the form's."""
    for incoming in reports:
        for _key, rec_in in sorted(incoming.recs.items()):
            if rec_in.rec_id is None or not rec_in.links:
                continue  # refused above, or no link columns
            links = rec_in.links
            if rec_in.outcome == "created" and not _asks_for_links(links):
                continue  # new, so without links, and the file sets none: nothing to change
            rec = session.get(Recommendation, rec_in.rec_id)
            if rec is None:
                continue
            savepoint = session.begin_nested()
            try:
                changed = _apply_rec_links(session, rec, links)
            except rec_services.RecommendationError as exc:
                savepoint.rollback()
                column = _LINK_ERROR_COLUMNS.get(exc.field or "", "priority")
                result.problems.append(Problem(rec_in.row, column, str(exc)))
                continue
            savepoint.commit()
            if changed and rec_in.outcome == "unchanged":
                rec_in.outcome = "updated"


def _asks_for_links(links: dict[str, Any]) -> bool:
    """Whether the file's row flags the recommendation as a priority or links it to one it
    repeats (a blank reason or note alone changes nothing on a new recommendation)."""
    return bool(
        links.get("priority")
        or (links.get("repeats_report") or "").strip()
        or links.get("repeats_number") is not None
    )


def _apply_rec_links(session: Session, rec: Recommendation, links: dict[str, Any]) -> bool:
    changed = False
    if "priority" in links or "priority_reason" in links:
        wanted = links.get("priority", rec.priority)
        reason = links.get("priority_reason", rec.priority_reason)
        if wanted != rec.priority or (wanted and reason != rec.priority_reason):
            changed |= priority.set_priority(session, rec, priority.PriorityData(wanted, reason))
    if "repeats_report" in links or "repeats_number" in links:
        wanted_report, wanted_number = links.get("repeats_report") or "", links.get("repeats_number")
        current = repeats.earlier_of(session, rec)
        same = current is not None and (current.report.number or current.report.title, current.number) == (
            wanted_report.upper() if current.report.number else wanted_report,
            wanted_number,
        )
        # The note (not a column) stays with an unchanged link and goes with a changed one.
        data = repeats.RepeatData(wanted_report, wanted_number, rec.repeat_note if same else "")
        changed |= repeats.set_repeat(session, rec, data)
    return changed


def run_import(
    session: Session,
    actor: AuditActor,
    sheet: Sheet,
    *,
    filename: str,
    data: bytes,
    commit: bool,
    today: date,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check a sheet and apply it. With commit=False (a dry run), or when anything is
    wrong, everything is rolled back; the result says what would have changed."""
    result = ImportResult()
    reports = _Reader(session, sheet, result).read()
    if result.problems:
        return result
    outer = session.begin_nested()
    apply_rows(session, actor, reports, result, today=today, progress=progress)
    if result.problems or not commit:
        outer.rollback()
        return result
    audit.record(
        session,
        "import",
        actor=actor,
        object_type="imports",
        changes={
            "file": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "rows": result.rows,
            "created": dict(result.created),
            "updated": dict(result.updated),
        },
    )
    session.flush()
    outer.commit()
    result.committed = True
    return result


def count_reports(sheet: Sheet) -> int:
    """How many reports a sheet holds (for a progress bar)."""
    keys = set()
    for _row, values in sheet.rows:
        number = values.get("report_number", "").strip().upper()
        keys.add(("number", number) if number else ("title", values.get("report_title", "").strip()))
    return len(keys)
