"""The API's bodies, as marshmallow schemas: they validate what comes in (unknown fields
refused, types strict) and describe what goes out, and flask-smorest writes both into
the OpenAPI document."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date
from typing import Any

import marshmallow as ma
from marshmallow import fields as f
from marshmallow.validate import Length, OneOf, Range, Regexp

from app.filters import AGE_FILTERS, STATUS_FILTERS
from app.lifecycle import deadlines
from app.lifecycle.steps import Step
from app.models import (
    ClosureState,
    Concurrence,
    EventKind,
    IssuePrecision,
    RecStatus,
    ReportType,
    ResponseState,
    Sensitivity,
    TextSource,
)
from app.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from app.web import MAX_ID


def _values(enum: Any) -> list[str]:
    return [m.value for m in enum]


def _choice(enum: Any, **kw: Any) -> f.String:
    return f.String(validate=OneOf(_values(enum)), **kw)


def _id(*, strict: bool = True, **kw: Any) -> f.Integer:
    """An id: a JSON integer in a body; in a query string, digits."""
    return f.Integer(strict=strict, validate=Range(1, MAX_ID), **kw)


class StrictBoolean(f.Boolean):
    """JSON true or false only (not "yes", 1 or "on")."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


MONEY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
# What a text may hold: no control characters but tab and line breaks (app/text.py).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


class Money(f.Decimal):
    """An amount of dollars, written as a decimal string ("1250000.00"): exact, unlike a
    JSON number. Documented as a string of format "decimal" (app/api/__init__.py)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": MONEY_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str):  # a JSON number would be rounded by some clients
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Strict(ma.Schema):
    """Request bodies: a field the schema does not know is refused (422), and so is a
    control character in any text (PostgreSQL refuses NUL; the pages refuse them all)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def refuse_control_characters(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict):
            bad = {k: [CONTROL_CHARACTER_MESSAGE] for k, v in data.items() if _holds_control(v)}
            if bad:
                raise ma.ValidationError(bad)
        return data


def _holds_control(value: Any) -> bool:
    if isinstance(value, str):
        return has_control_characters(value)
    if isinstance(value, list):
        return any(isinstance(v, str) and has_control_characters(v) for v in value)
    return False


def _plain_text(**kw: Any) -> f.String:
    """A query string's free text: no control characters (the pages refuse them too)."""
    validators = [Regexp(TEXT_PATTERN, error=CONTROL_CHARACTER_MESSAGE), *kw.pop("validate", [])]
    return f.String(validate=validators, **kw)


# --- problem documents ----------------------------------------------------------------------


class FieldErrorSchema(ma.Schema):
    pointer = f.String(required=True, metadata={"description": "JSON pointer to the field refused"})
    detail = f.String(required=True)
    parameter = f.String(metadata={"description": "the query parameter refused, when not the body"})


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document."""

    type = f.String(required=True)
    title = f.String(required=True)
    status = f.Integer(required=True)
    detail = f.String(required=True)
    instance = f.String()
    errors = f.List(f.Nested(FieldErrorSchema))


# --- what the API answers -------------------------------------------------------------------


class ComponentRefSchema(ma.Schema):
    id = f.Integer(required=True)
    abbreviation = f.String(required=True)
    name = f.String(required=True)


class ComponentSchema(ComponentRefSchema):
    parent = f.String(allow_none=True, metadata={"description": "the parent agency's abbreviation"})
    active = f.Boolean(required=True)
    recommendations_total = f.Integer(required=True, metadata={"description": "those the caller may read"})
    recommendations_open = f.Integer(required=True)


class ReportRefSchema(ma.Schema):
    id = f.Integer(required=True)
    number = f.String(allow_none=True)
    title = f.String(required=True)
    issued_on = f.Date(allow_none=True)


class ClockSchema(ma.Schema):
    label = f.String(required=True)
    due = f.Date(required=True)
    days_left = f.Integer(required=True)
    overdue = f.Boolean(required=True)
    approximate = f.Boolean(required=True)
    text = f.String(required=True)


class AddresseeRefSchema(ma.Schema):
    id = f.Integer(required=True)
    component = f.Nested(ComponentRefSchema, required=True)
    is_lead = f.Boolean(required=True)
    concurrence = _choice(Concurrence, required=True)


class RecommendationItemSchema(ma.Schema):
    """One row of a list. `placeholder`: a restricted recommendation the caller may not
    read, shown as the pages show it (number, status, issue date; no text) so counts stay
    honest."""

    id = f.Integer(required=True)
    placeholder = f.Boolean(required=True)
    report = f.Nested(ReportRefSchema, required=True)
    number = f.Integer(allow_none=True)
    tag = f.String(required=True)
    sensitivity = _choice(Sensitivity, required=True)
    status = _choice(RecStatus, required=True)
    text = f.String(allow_none=True)
    significant = f.Boolean(allow_none=True)
    priority = f.Boolean(allow_none=True)
    questioned_costs = Money(allow_none=True)
    funds_put_to_better_use = Money(allow_none=True)
    addressees = f.List(f.Nested(AddresseeRefSchema), allow_none=True)
    version = f.Integer(allow_none=True)


class PageSchema(ma.Schema):
    next = f.String(allow_none=True, metadata={"description": "the next page's address"})
    next_cursor = f.String(allow_none=True, metadata={"description": "pass as `after`"})
    prev_cursor = f.String(allow_none=True, metadata={"description": "pass as `before`"})


class RecommendationListSchema(ma.Schema):
    total = f.Integer(required=True)
    as_of = f.Date(allow_none=True)
    items = f.List(f.Nested(RecommendationItemSchema), required=True)
    page = f.Nested(PageSchema, required=True)


class ReportSummarySchema(ReportRefSchema):
    issued_label = f.String(required=True)
    sensitivity = _choice(Sensitivity, required=True)
    report_type = f.String(allow_none=True)
    url = f.String(allow_none=True)
    components = f.List(f.Nested(ComponentRefSchema), required=True)
    recommendations_entered = f.Integer(required=True)
    recommendations_open = f.Integer(required=True)
    version = f.Integer(required=True)


class ReportListSchema(ma.Schema):
    items = f.List(f.Nested(ReportSummarySchema), required=True)
    page = f.Nested(PageSchema, required=True)


class ReportSchema(ReportSummarySchema):
    issuing_office = f.String(required=True)
    issued_precision = _choice(IssuePrecision, required=True)
    issued_on_approximate = f.Boolean(required=True)
    summary = f.String(required=True)
    recommendations_published = f.Integer(allow_none=True)
    concurrence_summary = f.String(required=True)
    recommendations = f.List(f.Nested(RecommendationItemSchema), required=True)


class AddresseeDueSchema(ma.Schema):
    response_due = f.Date(allow_none=True)
    update_due = f.Date(allow_none=True)
    target_due = f.Date(allow_none=True)


class AddresseeClocksSchema(ma.Schema):
    response = f.Nested(ClockSchema, allow_none=True)
    update = f.Nested(ClockSchema, allow_none=True)
    target = f.Nested(ClockSchema, allow_none=True)
    no_update = f.String(required=True)
    not_recorded = f.List(f.String(), required=True)
    not_known = f.List(f.String(), required=True)
    due = f.Nested(AddresseeDueSchema, allow_none=True)


class AddresseeSchema(AddresseeRefSchema):
    response = f.String(required=True)
    response_date = f.Date(allow_none=True)
    response_state = _choice(ResponseState, required=True)
    corrective_action_plan = f.String(required=True)
    target_date = f.Date(allow_none=True)
    responsible_official = f.String(required=True)
    evaluation_note = f.String(required=True)
    last_update_on = f.Date(allow_none=True)
    closure_state = _choice(ClosureState, required=True)
    closure_justification = f.String(required=True)
    closure_note = f.String(required=True)
    version = f.Integer(required=True)
    clocks = f.Nested(AddresseeClocksSchema, required=True)
    steps = f.List(f.String(), required=True, metadata={"description": "steps the caller may take now"})


class RecClocksSchema(ma.Schema):
    resolution = f.Nested(ClockSchema, allow_none=True)
    gao_ig_act = f.Boolean(required=True)
    age = f.String(allow_none=True)
    resolution_due = f.Date(allow_none=True)
    gao_ig_act_from = f.Date(allow_none=True)
    not_recorded = f.List(f.String(), required=True)
    not_known = f.List(f.String(), required=True)


class EventSchema(ma.Schema):
    id = f.Integer(required=True)
    kind = _choice(EventKind, required=True)
    label = f.String(required=True)
    addressee_id = f.Integer(allow_none=True)
    effective_on = f.Date(required=True)
    occurred_at = f.DateTime(required=True)
    actor = f.String(allow_none=True, metadata={"description": "who, when the caller may see names"})
    actor_role = f.String(required=True)
    status_after = f.String(allow_none=True)
    concurrence_after = f.String(allow_none=True)
    target_date_after = f.Date(allow_none=True)
    note = f.String(required=True)


class RecommendationSchema(ma.Schema):
    id = f.Integer(required=True)
    report = f.Nested(ReportRefSchema, required=True)
    number = f.Integer(allow_none=True)
    tag = f.String(required=True)
    text = f.String(required=True)
    text_source = _choice(TextSource, required=True)
    source_url = f.String(allow_none=True)
    sensitivity = _choice(Sensitivity, required=True)
    status = _choice(RecStatus, required=True)
    significant = f.Boolean(allow_none=True)
    priority = f.Boolean(required=True)
    questioned_costs = Money(allow_none=True)
    funds_put_to_better_use = Money(allow_none=True)
    resolved_on = f.Date(allow_none=True)
    closed_on = f.Date(allow_none=True)
    decision_note = f.String(required=True)
    version = f.Integer(required=True)
    clocks = f.Nested(RecClocksSchema, required=True)
    addressees = f.List(f.Nested(AddresseeSchema), required=True)
    events = f.List(f.Nested(EventSchema), required=True)
    steps = f.List(f.String(), required=True, metadata={"description": "steps the caller may take now"})


class CountSchema(ma.Schema):
    key = f.String(required=True)
    label = f.String(required=True)
    count = f.Integer(required=True)


class ComponentCountSchema(ma.Schema):
    component_id = f.Integer(required=True)
    abbreviation = f.String(required=True)
    open = f.Integer(required=True)


class DashboardSchema(ma.Schema):
    as_of = f.Date(allow_none=True)
    day = f.Date(required=True)
    total = f.Integer(required=True)
    open = f.Integer(required=True)
    by_status = f.List(f.Nested(CountSchema), required=True)
    by_component = f.List(f.Nested(ComponentCountSchema), required=True)
    ages = f.List(f.Nested(CountSchema), required=True)
    overdue = f.Dict(keys=f.String(), values=f.Integer(), required=True)
    period_start = f.Date(required=True)
    period_end = f.Date(required=True)
    closed_this_period = f.Integer(required=True)
    closed_last_period = f.Integer(required=True)
    questioned_open = Money(required=True)
    funds_open = Money(required=True)
    before_tracking = f.Integer(required=True)
    priority_open = f.Integer(required=True)
    unique_open = f.Integer(required=True)


class HitSchema(ma.Schema):
    kind = f.String(required=True)
    id = f.Integer(required=True)
    report_id = f.Integer(required=True)
    title = f.String(required=True)
    snippet = f.String(required=True)


class SearchSchema(ma.Schema):
    q = f.String(required=True)
    hits = f.List(f.Nested(HitSchema), required=True)


class CreatedSchema(ma.Schema):
    id = f.Integer(required=True)
    version = f.Integer(required=True)


class StepDoneSchema(ma.Schema):
    event_id = f.Integer(required=True)
    message = f.String(required=True)
    recommendation = f.Nested(RecommendationSchema, required=True)


# --- query strings --------------------------------------------------------------------------


def _query_date(**kw: Any) -> f.Date:
    return f.Date(**kw)


CURSOR = Regexp(r"^[A-Za-z0-9_-]*$")  # base64url, as app/keyset.py writes them


class CursorArgs(ma.Schema):
    after = f.String(validate=[Length(max=500), CURSOR], metadata={"description": "a next_cursor"})
    before = f.String(validate=[Length(max=500), CURSOR], metadata={"description": "a prev_cursor"})


class ReportListArgs(CursorArgs):
    q = _plain_text(validate=[Length(max=200)])
    component = _id(strict=False)
    status = f.String(validate=OneOf(["open", "closed", "none"]))
    year = f.Integer(validate=Range(1, 9999))


class RecommendationListArgs(CursorArgs):
    """The recommendation list page's filters, by the same names."""

    q = _plain_text(validate=[Length(max=200)])
    status = f.String(validate=OneOf(list(STATUS_FILTERS)))
    component = _id(strict=False)
    report = _id(strict=False)
    year = f.Integer(validate=Range(1, 9999))
    significant = f.String(validate=OneOf(["yes", "no"]))
    clock = f.String(validate=OneOf(list(deadlines.CLOCK_FILTERS)))
    age = f.String(validate=OneOf(list(AGE_FILTERS)))
    closed_from = _query_date()
    closed_to = _query_date()
    money = f.String(validate=OneOf(["yes"]))
    history = f.String(validate=OneOf(["before_tracking"]))
    priority = f.String(validate=OneOf(["yes", "1"]))
    as_of = _query_date(metadata={"description": "statuses and clocks at the end of this past day"})
    sort = f.String(validate=OneOf(["newest", "oldest", "report", "status"]))


class AsOfArgs(ma.Schema):
    as_of = _query_date(metadata={"description": "the counts at the end of this past day"})


class SearchArgs(ma.Schema):
    q = _plain_text(required=True, validate=[Length(min=1, max=200)])


# --- request bodies -------------------------------------------------------------------------


def _text(max_length: int | None = None, **kw: Any) -> f.String:
    return f.String(validate=Length(max=max_length) if max_length else None, **kw)


class ReportBodyBase(Strict):
    number = _text(40, allow_none=True)
    issuing_office = _text(120)
    title = f.String(validate=Length(min=1, max=500))
    issued_on = f.Date(allow_none=True)
    issued_precision = _choice(IssuePrecision)
    issued_on_approximate = StrictBoolean()
    report_type = f.String(validate=OneOf(_values(ReportType)), allow_none=True)
    url = _text(500, allow_none=True)
    summary = f.String()
    recommendations_published = f.Integer(strict=True, allow_none=True, validate=Range(0, 10000))
    concurrence_summary = f.String()
    sensitivity = _choice(Sensitivity)
    component_ids = f.List(_id())
    sources = f.String()
    notes = f.String()


class ReportCreateSchema(ReportBodyBase):
    title = f.String(required=True, validate=Length(min=1, max=500))
    issued_on = f.Date(required=True, allow_none=True)


class ReportEditSchema(ReportBodyBase):
    version = f.Integer(strict=True, required=True)


class AddresseeBodySchema(Strict):
    component_id = _id(required=True)
    is_lead = StrictBoolean()
    concurrence = _choice(Concurrence)
    response = f.String()
    response_date = f.Date(allow_none=True)
    version = f.Integer(
        strict=True, allow_none=True, metadata={"description": "required for a row already there"}
    )


class RecommendationBodyBase(Strict):
    number = f.Integer(strict=True, allow_none=True, validate=Range(1, 10000))
    text = f.String(validate=Length(min=1))
    text_source = _choice(TextSource)
    source_url = _text(500, allow_none=True)
    significant = StrictBoolean(allow_none=True)
    questioned_costs = Money(allow_none=True, validate=Range(0, 10**13))
    funds_put_to_better_use = Money(allow_none=True, validate=Range(0, 10**13))
    sensitivity = _choice(Sensitivity)
    addressees = f.List(f.Nested(AddresseeBodySchema), validate=Length(min=1, max=20))


class RecommendationCreateSchema(RecommendationBodyBase):
    text = f.String(required=True, validate=Length(min=1))
    addressees = f.List(f.Nested(AddresseeBodySchema), required=True, validate=Length(min=1, max=20))


class RecommendationEditSchema(RecommendationBodyBase):
    version = f.Integer(strict=True, required=True)


def _field_for(annotation: Any, default: Any) -> f.Field[Any]:
    """A marshmallow field for one field of a step's data class (its type hints)."""
    args = typing.get_args(annotation)
    nullable = type(None) in args
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in args if a is not type(None))
    if annotation is Concurrence:
        return f.String(validate=OneOf([c.value for c in Concurrence if c != Concurrence.PENDING]))
    if annotation is date:
        return f.Date(allow_none=nullable)
    if annotation is bool:
        return StrictBoolean()
    return f.String()


def step_schema(step: Step) -> type[ma.Schema]:
    """The body of a step: its data class's fields (all optional, as on the page; the
    step says which it needs) and the version of the record it changes (required)."""
    hints = typing.get_type_hints(step.data)
    fields: dict[str, Any] = {
        field.name: _field_for(hints[field.name], field.default) for field in dataclasses.fields(step.data)
    }
    if step.name == "close":
        fields["outcome"] = f.String(required=True, validate=OneOf(["implemented", "not_implemented"]))
    what = "the component's part (addressee)" if step.on_addressee else "the recommendation"
    fields["version"] = f.Integer(
        strict=True, required=True, metadata={"description": f"the version of {what} you last read"}
    )
    name = "".join(part.title() for part in step.name.split("_")) + "Step"
    return Strict.from_dict(fields, name=name)
