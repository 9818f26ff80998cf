"""Report forms: shape and format checks. Uniqueness and cross-record rules live in
the services."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    URL,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.forms import (
    IssueDateField,
    StrictMultiCheckboxField,
    StrictSelectField,
    VersionField,
    WholeNumberField,
    blank_to_none,
    select_choices,
    text_field,
)
from app.issue_dates import FORMS_HINT
from app.models import ReportType, Sensitivity
from app.reports.services import ReportError, check_issue_date
from app.web import today

REPORT_NUMBER_RE = r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$"


URL_MESSAGE = "Enter a full web address starting with https://, such as https://www.oig.dhs.gov/."


def upper(value: str | None) -> str | None:
    return value.upper() if isinstance(value, str) else value


class WebAddress(URL):
    """An http(s) address; one message whatever is wrong with it (the scheme is checked
    here, not in a second validator that would add its own message)."""

    def __init__(self) -> None:
        super().__init__(message=URL_MESSAGE)

    # URL's stub overrides Regexp.__call__ (which returns the match) with an ignore too
    def __call__(self, form: Any, field: Any) -> None:  # type: ignore[override]
        if not (field.data or "").lower().startswith(("https://", "http://")):
            raise ValidationError(URL_MESSAGE)
        super().__call__(form, field)


class ReportForm(FlaskForm):
    number = StringField(
        "Report number",
        description="Letters, digits and hyphens, such as OIG-12-15. Leave blank while unknown.",
        filters=[blank_to_none, upper],
        validators=[
            Optional(),
            Length(max=40),
            Regexp(REPORT_NUMBER_RE, message="Use letters, digits and single hyphens, such as OIG-12-15."),
        ],
    )
    issuing_office = text_field(
        StringField, "Issuing office", 120, required="Enter the issuing office.", default="DHS OIG"
    )
    title = text_field(TextAreaField, "Title", 500, required="Enter the report's title.")
    issued_on = IssueDateField(
        "Issue date",
        description="As printed on the report, such as 2024-09-27. If the source gives only the month, "
        "write 2024-09; if only the federal fiscal year, FY2024 (October 1, 2023 to September 30, 2024). "
        "If no source gives even the fiscal year, write: not known.",
        validators=[InputRequired(f"Enter the issue date: {FORMS_HINT}, or “not known”.")],
    )
    issued_on_approximate = BooleanField("The issue date is approximate (inferred, not read)")
    report_type = StrictSelectField(
        "Report type",
        choices=select_choices([("", "Not recorded"), *ReportType.choices()]),
        filters=[blank_to_none],
        validate_choice=False,
    )
    url = URLField(
        "Public web address",
        filters=[blank_to_none],
        validators=[
            Optional(),
            WebAddress(),
            Length(max=500),
        ],
    )
    summary = text_field(TextAreaField, "Summary", 20000)
    # invalid_value_message is new in WTForms 3.3; the newest types-WTForms is for 3.2
    recommendations_published = WholeNumberField(  # type: ignore[call-arg]
        "Number of recommendations as published",
        description="Leave blank if not known.",
        validators=[Optional(), NumberRange(min=0, max=999, message="Enter a whole number from 0 to 999.")],
        invalid_value_message="Enter a whole number from 0 to 999.",
    )
    concurrence_summary = text_field(TextAreaField, "Concurrence summary", 5000)
    sensitivity = StrictSelectField(
        "Sensitivity", choices=select_choices(Sensitivity.choices()), default="public"
    )
    components = StrictMultiCheckboxField("Components covered", coerce=int)
    sources = text_field(TextAreaField, "Sources", 5000, description="Where these facts were read.")
    notes = text_field(TextAreaField, "Notes", 5000)

    def validate_issued_on(self, field: IssueDateField) -> None:
        # here too, not only in the service, so it is listed with the form's other problems
        if field.data is not None:
            try:
                check_issue_date(field.data, today())
            except ReportError as exc:
                raise ValidationError(str(exc)) from None


class ReportEditForm(ReportForm):
    """A change to a logged report: also says which version of it the form shows."""

    version = VersionField()
