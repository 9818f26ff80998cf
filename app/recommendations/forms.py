"""Recommendation form with one row per addressed component."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.forms import (
    FriendlyDateField,
    MoneyField,
    NumberOrNotKnownField,
    NumberOrNotKnownRange,
    StrictSelectField,
    VersionField,
    WholeNumberField,
    blank_to_none,
    select_choices,
    strip,
    text_field,
)
from app.models import Concurrence, Sensitivity, TextSource
from app.recommendations.priority import DEFINITION, REASON_MAX, REASON_MISSING
from app.recommendations.repeats import NOTE_MAX
from app.reports.forms import WebAddress

MAX_ADDRESSEES = 20


def _int_or_none(value: Any) -> int | None:
    if value in (None, "", "None"):
        return None
    return int(value)


class AddresseeRowForm(Form):
    """One addressed component: its concurrence and management response."""

    component_id = StrictSelectField("Component", coerce=_int_or_none, validate_choice=False)
    is_lead = BooleanField("Lead component")
    concurrence = StrictSelectField(
        "Concurrence", choices=select_choices(Concurrence.choices()), default="pending"
    )
    response = text_field(TextAreaField, "Management response", 20000)
    response_date = FriendlyDateField("Response date", validators=[Optional()])
    # Empty on a row added in this form; the service checks a row naming a component
    # already addressed.
    version = VersionField(required=False)


class RecommendationForm(FlaskForm):
    # invalid_value_message is new in WTForms 3.3; the newest types-WTForms is for 3.2
    number = NumberOrNotKnownField(  # type: ignore[call-arg]
        "Recommendation number",
        description="As printed in the report, such as 3. If no source gives it, write: not known.",
        validators=[
            InputRequired("Enter the recommendation's number as printed in the report, or “not known”."),
            NumberOrNotKnownRange(min=1, max=999, message="Enter a whole number from 1 to 999."),
        ],
        invalid_value_message="Enter a whole number, such as 3, or “not known”.",
    )
    text = text_field(
        TextAreaField, "Recommendation text", 20000, required="Enter the recommendation's text."
    )
    text_source = StrictSelectField(
        "Where the text came from", choices=select_choices(TextSource.choices()), default="verbatim"
    )
    source_url = URLField(
        "Where the text was read (web address)",
        description="Only when not on the report's own page, such as an oversight.gov recommendation page.",
        filters=[blank_to_none],
        validators=[Optional(), WebAddress(), Length(max=500)],
    )
    significant = StrictSelectField(
        "Significant recommendation",
        choices=[("no", "No"), ("yes", "Yes"), ("", "Not listed (the source does not say)")],
        default="no",
    )
    questioned_costs = MoneyField(
        "Questioned costs (dollars)", filters=[blank_to_none], validators=[Optional()]
    )
    funds_put_to_better_use = MoneyField(
        "Funds put to better use (dollars)", filters=[blank_to_none], validators=[Optional()]
    )
    sensitivity = StrictSelectField(
        "Sensitivity", choices=select_choices(Sensitivity.choices()), default="public"
    )
    addressees = FieldList(FormField(AddresseeRowForm), min_entries=1, max_entries=MAX_ADDRESSEES)
    add_row = SubmitField("Add another component")
    save = SubmitField("Save recommendation")


class RecommendationEditForm(RecommendationForm):
    """A correction to an entered recommendation: also says which version it shows."""

    version = VersionField()


class PriorityForm(FlaskForm):
    """Set or clear the priority flag (OIG staff), always with a reason."""

    priority = BooleanField("Priority recommendation", description=DEFINITION)
    reason = TextAreaField(
        "Reason",
        filters=[strip],
        validators=[DataRequired(REASON_MISSING), Length(max=REASON_MAX)],
        description="Why this recommendation is, or is no longer, a priority. Kept and shown on its page.",
    )
    version = VersionField()
    save = SubmitField("Save priority")


class RepeatForm(FlaskForm):
    """Link a recommendation to the earlier one it repeats or rolls forward (OIG staff);
    both parts blank to remove the link."""

    repeats_report = StringField(
        "Earlier report",
        filters=[strip],
        validators=[Length(max=500)],
        description="Its number, such as OIG-12-15 (its exact title if it has no number). "
        "Leave both blank to remove the link.",
    )
    # invalid_value_message is new in WTForms 3.3; the newest types-WTForms is for 3.2
    repeats_number = WholeNumberField(  # type: ignore[call-arg]
        "Recommendation number in that report",
        validators=[Optional(), NumberRange(min=1, max=999, message="Enter a whole number from 1 to 999.")],
        invalid_value_message="Enter a whole number, such as 3.",
    )
    note = TextAreaField("Note (optional)", filters=[strip], validators=[Length(max=NOTE_MAX)])
    version = VersionField()
    save = SubmitField("Save link")


_SIGNIFICANT = {"yes": True, "no": False, "": None}


def significant_value(choice: str | None) -> bool | None:
    """The significant field's choice as stored: True, False or None (not listed)."""
    return _SIGNIFICANT[choice or ""]


def significant_choice(value: bool | None) -> str:
    """A stored significant value as the field's choice."""
    return next(k for k, v in _SIGNIFICANT.items() if v is value)
