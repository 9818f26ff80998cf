"""Records as the API shows them, to the caller's visibility: the same rules the pages
apply (app/auth/policy.py), and clocks and due dates from app/lifecycle/deadlines,
never worked out again here."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.auth import policy
from app.dashboard.queries import Dashboard
from app.lifecycle import deadlines, workflow
from app.lifecycle.clocks import AgeBucket, Clock
from app.models import Addressee, Component, Recommendation, RecStatus, Report
from app.reports.queries import recommendation_counts
from app.search.queries import Hit


def component_ref(c: Component) -> dict[str, Any]:
    return {"id": c.id, "abbreviation": c.abbreviation, "name": c.name}


def component(row: Any) -> dict[str, Any]:
    c = row[0]
    return {
        **component_ref(c),
        "parent": row.parent_abbreviation,
        "active": c.active,
        "recommendations_total": row.total,
        "recommendations_open": row.open,
    }


def report_ref(r: Report) -> dict[str, Any]:
    return {"id": r.id, "number": r.number, "title": r.title, "issued_on": r.issued_on}


def report_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int]]:
    """Entered and open recommendations per report (all of them: counts stay honest)."""
    if not ids:
        return {}
    counts = recommendation_counts()
    rows = session.execute(sa.select(counts).where(counts.c.report_id.in_(ids)))
    return {row.report_id: (row.entered, row.open) for row in rows}


def report_summary(r: Report, counts: dict[int, tuple[int, int]]) -> dict[str, Any]:
    entered, open_ = counts.get(r.id, (0, 0))
    return {
        **report_ref(r),
        "issued_label": r.issued_label,
        "sensitivity": r.sensitivity,
        "report_type": r.report_type.value if r.report_type else None,
        "url": r.url,
        "components": [component_ref(c) for c in r.components],
        "recommendations_entered": entered,
        "recommendations_open": open_,
        "version": r.version,
    }


def report_detail(r: Report, user: Any) -> dict[str, Any]:
    recs = list(r.recommendations)
    counts = {r.id: (len(recs), sum(1 for x in recs if x.status.is_open))}
    return {
        **report_summary(r, counts),
        "issuing_office": r.issuing_office,
        "issued_precision": r.issued_precision,
        "issued_on_approximate": r.issued_on_approximate,
        "summary": r.summary,
        "recommendations_published": r.recommendations_published,
        "concurrence_summary": r.concurrence_summary,
        "recommendations": [rec_item(x, user, x) for x in recs],
    }


def rec_item(rec: Recommendation, user: Any, state: Any) -> dict[str, Any]:
    """A list row; `state` is the recommendation or its snapshot of an "as of" day. A
    restricted one the caller may not read: a placeholder with what the page's row shows
    (number, status, issue date), never its text, components or money."""
    base: dict[str, Any] = {
        "id": rec.id,
        "report": report_ref(rec.report),
        "number": rec.number,
        "tag": rec.tag,
        "sensitivity": rec.sensitivity,
        "status": state.status or rec.status,
    }
    if not policy.can_view_recommendation(user, rec):
        return {**base, "placeholder": True}
    return {
        **base,
        "placeholder": False,
        "text": rec.text,
        "significant": rec.significant,
        "priority": rec.priority,
        "questioned_costs": rec.questioned_costs,
        "funds_put_to_better_use": rec.funds_put_to_better_use,
        "addressees": [
            {
                "id": a.id,
                "component": component_ref(a.component),
                "is_lead": a.is_lead,
                "concurrence": a.concurrence,
            }
            for a in state.addressees
        ],
        "version": rec.version,
    }


def clock(c: Clock | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "label": c.label,
        "due": c.due,
        "days_left": c.days_left,
        "overdue": c.overdue,
        "approximate": c.approximate,
        "text": c.text,
    }


def _addressee(rec: Recommendation, a: Addressee, user: Any, now: date, interval: int) -> dict[str, Any]:
    clocks = deadlines.addressee_clocks(rec, a, rec.report.issued_on, now, interval)
    due = clocks.due
    return {
        "id": a.id,
        "component": component_ref(a.component),
        "is_lead": a.is_lead,
        "concurrence": a.concurrence,
        "response": a.response,
        "response_date": a.response_date,
        "response_state": a.response_state,
        "corrective_action_plan": a.corrective_action_plan,
        "target_date": a.target_date,
        "responsible_official": a.responsible_official,
        "evaluation_note": a.evaluation_note,
        "last_update_on": a.last_update_on,
        "closure_state": a.closure_state,
        "closure_justification": a.closure_justification,
        "closure_note": a.closure_note,
        "version": a.version,
        "clocks": {
            "response": clock(clocks.response),
            "update": clock(clocks.update),
            "target": clock(clocks.target),
            "no_update": clocks.no_update,
            "not_recorded": list(clocks.not_recorded),
            "not_known": list(clocks.not_known),
            "due": None
            if due is None
            else {
                "response_due": due.response_due,
                "update_due": due.update_due,
                "target_due": due.target_due,
            },
        },
        "steps": [step.slug for step in workflow.steps_for(user, rec, a)],
    }


def rec_detail(rec: Recommendation, user: Any, now: date, interval: int) -> dict[str, Any]:
    """Everything the recommendation's page shows (needs lifecycle_detail's loading)."""
    rc = deadlines.recommendation_clocks(rec, rec.report.issued_on, now)
    names = policy.sees_actor_names(user)
    events = sorted(rec.events, key=lambda e: (e.effective_on, e.id))
    return {
        "id": rec.id,
        "report": report_ref(rec.report),
        "number": rec.number,
        "tag": rec.tag,
        "text": rec.text,
        "text_source": rec.text_source,
        "source_url": rec.source_url,
        "sensitivity": rec.sensitivity,
        "status": rec.status,
        "significant": rec.significant,
        "priority": rec.priority,
        "questioned_costs": rec.questioned_costs,
        "funds_put_to_better_use": rec.funds_put_to_better_use,
        "resolved_on": rec.resolved_on,
        "closed_on": rec.closed_on,
        "decision_note": rec.decision_note,
        "version": rec.version,
        "clocks": {
            "resolution": clock(rc.resolution),
            "gao_ig_act": rc.gao_ig_act,
            "age": rc.age.value if rc.age else None,
            "resolution_due": rc.due.resolution_due,
            "gao_ig_act_from": rc.due.gao_ig_act_from,
            "not_recorded": list(rc.not_recorded),
            "not_known": list(rc.not_known),
        },
        "addressees": [_addressee(rec, a, user, now, interval) for a in rec.addressees],
        "events": [
            {
                "id": e.id,
                "kind": e.kind,
                "label": e.kind.label,
                "addressee_id": e.addressee_id,
                "effective_on": e.effective_on,
                "occurred_at": e.occurred_at,
                "actor": e.actor_label if names else None,
                "actor_role": e.actor_role,
                "status_after": e.status_after,
                "concurrence_after": e.concurrence_after,
                "target_date_after": e.target_date_after,
                "note": e.note,
            }
            for e in events
        ],
        "steps": [step.slug for step in workflow.steps_for(user, rec)],
    }


def dashboard(data: Dashboard, day: date, as_of: date | None) -> dict[str, Any]:
    return {
        "as_of": as_of,
        "day": day,
        "total": data.total,
        "open": data.open,
        "by_status": [
            {"key": st.value, "label": st.label, "count": data.by_status.get(st, 0)} for st in RecStatus
        ],
        "by_component": [
            {"component_id": cid, "abbreviation": abbr, "open": n} for cid, abbr, n in data.by_component
        ],
        "ages": [{"key": b.value, "label": b.label, "count": data.ages.get(b, 0)} for b in AgeBucket],
        "overdue": dict(data.overdue),
        "period_start": data.period.start,
        "period_end": data.period.end,
        "closed_this_period": data.closed_this_period,
        "closed_last_period": data.closed_last_period,
        "questioned_open": data.questioned_open,
        "funds_open": data.funds_open,
        "before_tracking": data.before_tracking,
        "priority_open": data.priority_open,
        "unique_open": data.unique_open,
    }


def hit(h: Hit) -> dict[str, Any]:
    return {
        "kind": h.kind,
        "id": h.ref_id,
        "report_id": h.report_id,
        "title": h.title.striptags(),
        "snippet": h.snippet.striptags(),
    }
