"""Recommendation form with one row per addressed component."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from app.forms import (
    FriendlyDateField,
    MoneyField,
    StrictSelectField,
    VersionField,
    WholeNumberField,
    blank_to_none,
    select_choices,
    text_field,
)
from app.models import Concurrence, Sensitivity, TextSource

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
    number = WholeNumberField(  # type: ignore[call-arg]
        "Recommendation number",
        validators=[
            InputRequired("Enter the recommendation's number as printed in the report."),
            NumberRange(min=1, max=999, message="Enter a whole number from 1 to 999."),
        ],
        invalid_value_message="Enter a whole number, such as 3.",
    )
    text = text_field(
        TextAreaField, "Recommendation text", 20000, required="Enter the recommendation's text."
    )
    text_source = StrictSelectField(
        "Where the text came from", choices=select_choices(TextSource.choices()), default="verbatim"
    )
    significant = BooleanField("Significant recommendation")
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
