"""Read queries for the lifecycle: one recommendation in full, and the work queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app import wording
from app.lifecycle.deadlines import AWAITING_RESPONSE, addressee_late, more_than_6_months_criterion
from app.lifecycle.steps import STEPS
from app.models import (
    Addressee,
    Attachment,
    ClosureState,
    Recommendation,
    RecommendationEvent,
    RecStatus,
    Report,
    Role,
)
from app.models.recommendation import recommendation_detail

QUEUE_LIMIT = 100


def lifecycle_detail(rec_id: int) -> sa.Select[Recommendation]:
    """A recommendation with its report, addressees, history and documents."""
    return recommendation_detail(rec_id).options(
        selectinload(Recommendation.events).selectinload(RecommendationEvent.attachments),
        selectinload(Recommendation.attachments).joinedload(Attachment.component),
    )


def attachment_for_download(attachment_id: int) -> sa.Select[Attachment]:
    return (
        sa.select(Attachment)
        .where(Attachment.id == attachment_id)
        .options(joinedload(Attachment.recommendation).selectinload(Recommendation.addressees))
    )


def _addressee_rows() -> sa.Select[Addressee]:
    """Addressees with their recommendation, report and component, in one query."""
    return (
        sa.select(Addressee)
        .join(Addressee.recommendation)
        .join(Recommendation.report)
        .options(
            contains_eager(Addressee.recommendation).contains_eager(Recommendation.report),
            joinedload(Addressee.component),
        )
    )


def _addressee_count(*criteria: sa.ColumnElement[bool]) -> sa.Select[int]:
    """How many rows `_addressee_rows().where(*criteria)` lists when the criteria do not
    read the report: every recommendation has its report (a NOT NULL foreign key), so the
    count needs no join to it (nor a read of each recommendation's row for its report)."""
    return sa.select(sa.func.count()).select_from(Addressee).join(Addressee.recommendation).where(*criteria)


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    explanation: str
    stmt: sa.Select[Any]
    count: sa.Select[int]  # how many rows `stmt` lists (the header's count), in a cheaper query


def queues_for(user: Any, today: date, interval_days: int) -> list[Queue]:
    """The work queues of a user's role. Liaisons see their components' rows only. A queue
    of rows waiting for a step lists those the step table allows it on (Step.criterion)."""
    role = getattr(user, "role", None)
    queues: list[Queue] = []
    if role == Role.LIAISON:
        mine = Addressee.component_id.in_(user.component_ids)
        responses = (
            mine,
            Recommendation.status == RecStatus.OPEN_UNRESOLVED,
            Addressee.response_state.in_(AWAITING_RESPONSE),
        )
        updates = (mine, addressee_late("update_due", today))
        returned = (
            mine,
            STEPS["request_closure"].criterion(),
            Addressee.closure_state == ClosureState.RETURNED,
        )
        queues += [
            Queue(
                "responses_due",
                "Responses due",
                "Each response is due 90 days after the report was issued (DHS Directive 077-01); "
                "a revised one by the date the OIG set when it returned the response or reopened "
                "the recommendation.",
                _addressee_rows()
                # every response owed, due or not yet, and those whose due date fell before
                # RecTrack tracked them (owed still, though no clock runs: the page says so)
                .where(*responses)
                .order_by(Report.issued_on.nulls_last(), Recommendation.number.nulls_last()),
                _addressee_count(*responses),
            ),
            Queue(
                "updates_due",
                "Progress updates due",
                f"Due every {wording.count(interval_days, 'day')} after resolution; "
                "listed from 30 days before.",
                _addressee_rows().where(*updates).order_by(Addressee.update_due, Recommendation.id),
                _addressee_count(*updates),
            ),
            Queue(
                "closures_returned",
                "Closure requests returned",
                "The OIG did not close these yet; its reason is shown.",
                _addressee_rows().where(*returned).order_by(Recommendation.id),
                _addressee_count(*returned),
            ),
        ]
    elif role in (Role.OIG, Role.ADMIN):
        queues += [
            Queue(
                "responses_to_evaluate",
                "Responses awaiting evaluation",
                "Accept each response, or return it with a reason, then resolve.",
                _addressee_rows()
                .where(STEPS["accept_response"].criterion())
                .order_by(Addressee.response_date, Addressee.id),
                _addressee_count(STEPS["accept_response"].criterion()),
            ),
            Queue(
                "closures_to_decide",
                "Closure requests awaiting decision",
                "Close the recommendation, or return the request with a reason.",
                _addressee_rows().where(STEPS["return_closure"].criterion()).order_by(Addressee.id),
                _addressee_count(STEPS["return_closure"].criterion()),
            ),
            Queue(
                "resolutions_overdue",
                "Resolutions past 6 months",
                "OMB Circular A-50 expects resolution within six months of issuance.",
                sa.select(Recommendation)
                .join(Recommendation.report)
                .where(more_than_6_months_criterion(today))
                .options(
                    contains_eager(Recommendation.report),
                    selectinload(Recommendation.addressees).joinedload(Addressee.component),
                )
                .order_by(Report.issued_on.nulls_last(), Recommendation.number.nulls_last()),
                sa.select(sa.func.count())
                .select_from(Recommendation)
                .where(more_than_6_months_criterion(today)),
            ),
        ]
    return queues


def count_of(stmt: sa.Select[Any]) -> sa.Select[int]:
    """COUNT(*) of a query's rows, without its selected entities or their eager joins."""
    return stmt.with_only_columns(sa.func.count(), maintain_column_froms=True).order_by(None)
