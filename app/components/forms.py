"""Component form (administrators)."""

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.forms import StrictSelectField, VersionField, strip


def _int_or_none(value: Any) -> int | None:
    return None if value in (None, "", "None") else int(value)


class ComponentForm(FlaskForm):
    abbreviation = StringField(
        "Abbreviation",
        description="As the OIG writes it, such as I&A or FEMA.",
        filters=[strip],
        validators=[
            DataRequired("Enter the abbreviation."),
            Length(max=20),
            Regexp(r"^[A-Za-z0-9&.\-/ ]+$", message="Use letters, digits, spaces and & . - / only."),
        ],
    )
    name = StringField(
        "Full name", filters=[strip], validators=[DataRequired("Enter the full name."), Length(max=200)]
    )
    parent_id = StrictSelectField("Part of", coerce=_int_or_none, validate_choice=False)
    active = BooleanField("Active (can be chosen for new recommendations)", default=True)


class ComponentEditForm(ComponentForm):
    """A change to a component: also says which version of it the form shows."""

    version = VersionField()
