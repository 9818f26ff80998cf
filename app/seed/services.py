"""Load the curated facts of the real DHS OIG reports (app/seed/data/dhs-oig-reports.yaml,
a copy of shared/data/dhs-oig-reports.yaml). Idempotent: a second run changes nothing.

Nothing here invents a recommendation text, number, date, addressee or concurrence: what
the data file does not say stays unknown (a blank report number, a Pending concurrence, no
lead where the file names none, an issue date "not known" when the file gives neither a
date nor a fiscal year, a recommendation "number not known", found again by its text)
and the pages show the gap.

A `status_as_listed` is stored as what the source listed (Recommendation.listed_status),
never as a RecTrack status or OIG decision; the file records no date the page was read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from app import issue_dates, wording
from app.audit import AuditActor
from app.issue_dates import IssueDate
from app.lifecycle import history
from app.models import (
    Addressee,
    Component,
    Concurrence,
    IssuePrecision,
    ListedStatus,
    Recommendation,
    Report,
    ReportType,
    Sensitivity,
    TextSource,
)
from app.models.recommendation import rec_key
from app.reports import queries as report_queries

SEED_FILE = Path(__file__).parent / "data" / "dhs-oig-reports.yaml"


class SeedError(ValueError):
    """The seed file says something RecTrack cannot load."""


@dataclass
class SeedResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    # what the file holds but RecTrack cannot load without inventing a value, and why

    def summary(self) -> str:
        # kinds are table names: "reports", "addressees"
        parts = [f"{wording.count(n, kind[:-1])} created" for kind, n in sorted(self.created.items())]
        parts += [f"{wording.count(n, kind[:-1])} updated" for kind, n in sorted(self.updated.items())]
        return "; ".join(parts) or "nothing to change"


def _set(obj: Any, kind: str, result: SeedResult, **values: Any) -> None:
    changed = False
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    if changed and sa.inspect(obj).persistent:
        result.updated[kind] += 1


def _issued(item: dict[str, Any]) -> tuple[IssueDate, bool] | None:
    """The issue date as the file gives it: a date, "2024-09" or "FY2024" text, a
    {date, approximate} pair, or null with a fiscal_year. None when it gives neither."""
    value, approximate = item.get("issued"), False
    if isinstance(value, dict):
        value, approximate = value["date"], bool(value.get("approximate", False))
    if value is None and item.get("fiscal_year"):
        return issue_dates.fiscal_year(int(item["fiscal_year"])), approximate
    if value is None:
        return None
    if isinstance(value, date):
        return IssueDate(value), approximate
    try:
        return issue_dates.parse(str(value)), approximate
    except issue_dates.IssueDateError as exc:
        raise SeedError(f"unreadable issue date {value!r}: {exc}") from None


def _name(item: dict[str, Any]) -> str:
    return item.get("number") or f"“{item['title']}”"


def _listed_in(rec_source: str | None, report_url: str | None) -> str:
    """Which site listed the status: the recommendation's own source page, else the
    report's page; the file's header says these listings are oversight.gov data."""
    host = (urlparse(rec_source or report_url or "").hostname or "").removeprefix("www.")
    if not host or host.endswith("oversight.gov"):
        return "oversight.gov"
    if "ai-analytics" in host:
        return f"{host}, a copy of oversight.gov data"
    return host


def _report_type(value: str | None) -> ReportType | None:
    if value in (None, "", "unknown"):
        return None
    return ReportType(value.replace(" ", "_"))


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def load_seed(
    session: Session,
    actor: AuditActor,
    path: Path = SEED_FILE,
    *,
    today: date,
    components_only: bool = False,
) -> SeedResult:
    """Create or update the seed components, reports, recommendations and addressees.
    A new recommendation's history starts at its report's issue date; RecTrack tracks it
    from `today` (the day the seed is loaded)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = SeedResult()
    components = _load_components(session, data.get("components", []), result)
    new_recs: list[Recommendation] = []
    for item in [] if components_only else data.get("reports", []):
        new_recs += _load_report(session, item, components, result, today)
    session.flush()
    for rec in new_recs:
        history.record_issuance(session, rec, actor)
    session.flush()
    return result


def _load_components(
    session: Session, items: list[dict[str, Any]], result: SeedResult
) -> dict[str, Component]:
    existing = {c.abbreviation: c for c in session.scalars(sa.select(Component))}
    created: set[str] = set()
    for item in items:
        component = existing.get(item["abbreviation"])
        if component is None:
            component = Component(abbreviation=item["abbreviation"], name=item["name"], active=True)
            session.add(component)
            existing[component.abbreviation] = component
            created.add(component.abbreviation)
            result.created["components"] += 1
        else:
            _set(component, "components", result, name=item["name"])
    session.flush()  # new components get ids before anything names them as its parent
    for item in items:
        component = existing[item["abbreviation"]]
        parent = existing[item["parent"]] if item.get("parent") else None
        if component.abbreviation in created:
            component.parent = parent
        else:
            _set(component, "components", result, parent_id=parent.id if parent else None)
    session.flush()
    return existing


def _find_report(session: Session, item: dict[str, Any]) -> Report | None:
    return session.scalar(report_queries.report_by_identity(item.get("number"), item.get("title", "")))


def _load_report(
    session: Session,
    item: dict[str, Any],
    components: dict[str, Component],
    result: SeedResult,
    today: date,
) -> list[Recommendation]:
    issued = _issued(item)  # None: neither a date nor a fiscal year (clocks "not known")
    issue, approximate = issued if issued is not None else (None, False)
    facts = item.get("key_facts") or []
    values = {
        "number": item.get("number") or None,
        "title": item["title"],
        "issued_on": issue.on if issue else None,
        "issued_precision": issue.precision if issue else IssuePrecision.DAY,
        "issued_on_approximate": approximate,
        "issued_source": (item.get("issued_source") or "").strip(),
        "report_type": _report_type(item.get("type")),
        "url": item.get("url"),
        "summary": "\n".join(f"- {fact}" for fact in facts),
        "recommendations_published": item.get("recommendations_published"),
        "concurrence_summary": item.get("concurrence_summary") or "",
        "sensitivity": Sensitivity(item.get("sensitivity", "public")),
        "sources": "\n".join(f"- {s}" for s in item.get("sources") or []),
        "notes": (item.get("notes") or "").strip(),
    }
    report = _find_report(session, item)
    if report is None:
        report = Report(**values)
        session.add(report)
        result.created["reports"] += 1
    else:
        _set(report, "reports", result, **values)
    wanted = sorted((components[a] for a in item.get("components") or []), key=lambda c: c.abbreviation)
    if [c.id for c in report.components] != [c.id for c in wanted]:
        report.components = wanted
        if sa.inspect(report).persistent:
            result.updated["reports"] += 1

    # a recommendation whose number the file does not give is known by its text
    by_key = {rec_key(r.number, r.text): r for r in report.recommendations}
    new: list[Recommendation] = []
    for rec_item in item.get("recommendations") or []:
        rec = _load_recommendation(
            report,
            by_key.get(rec_key(rec_item.get("number"), rec_item["text"])),
            rec_item,
            components,
            result,
            today,
        )
        if rec is not None:
            new.append(rec)
    return new


def _load_recommendation(
    report: Report,
    rec: Recommendation | None,
    item: dict[str, Any],
    components: dict[str, Component],
    result: SeedResult,
    today: date,
) -> Recommendation | None:
    listed = item.get("status_as_listed")
    values = {
        "number": item.get("number"),
        "text": item["text"].strip(),
        "text_source": TextSource(item.get("text_source", "verbatim")),
        # not listed in the file: None ("Not listed"), never an invented "no"
        "significant": None if item.get("significant") is None else bool(item["significant"]),
        "questioned_costs": _money(item.get("questioned_costs")),
        "funds_put_to_better_use": _money(item.get("funds_put_to_better_use")),
        "sensitivity": report.sensitivity,
        "source_url": item.get("source"),
        "listed_status": ListedStatus(listed) if listed else None,
        "listed_in": _listed_in(item.get("source"), report.url) if listed else "",
        "listed_read_on": None,  # the file does not say when the page was read
    }
    created = rec is None
    if rec is None:
        rec = Recommendation(**values, tracked_since=today)
        report.recommendations.append(rec)
        result.created["recommendations"] += 1
    else:
        _set(rec, "recommendations", result, **values)

    rows = item.get("addressees") or []
    if not rows:
        raise SeedError(f"{report} recommendation {item.get('number') or item['text'][:40]} has no addressee")
    existing = {a.component_id: a for a in rec.addressees}
    for row in rows:
        component = components[row["component"]]
        lead = bool(row.get("lead")) or len(rows) == 1
        fields = {
            "is_lead": lead,
            "concurrence": Concurrence(row.get("concurrence", "pending").replace("-", "_")),
            "response": (row.get("response") or "").strip(),
        }
        addressee = existing.get(component.id)
        if addressee is None:
            rec.addressees.append(Addressee(component=component, **fields))
            result.created["addressees"] += 1
        else:
            _set(addressee, "addressees", result, **fields)
    return rec if created else None
