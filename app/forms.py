"""Form building blocks shared by every feature."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import DecimalField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2
from wtforms.validators import DataRequired, Length, NumberRange, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from app import issue_dates
from app.locking import MISSING_VERSION_MESSAGE
from app.text import NOT_KNOWN, is_not_known


class ConfirmForm(FlaskForm):
    """Only the CSRF token: a deliberate second click for deletions and decisions."""


class TamperedInput(BadRequest):
    description = "The form sent a value that is not one of its choices. Reload the page and try again."


def select_choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def blank_to_none(value: Any) -> Any:
    value = strip(value)
    return None if value == "" else value


TextT = TypeVar("TextT", bound=StringField)


def text_field(
    kind: type[TextT], label: str, max_length: int, *, required: str | None = None, **options: Any
) -> TextT:
    """A text field of `kind` (StringField, TextAreaField, EmailField) whose value is
    stripped and at most `max_length` characters long; `required` is the message shown
    when it is left empty (optional without it)."""
    validators: list[Any] = [DataRequired(required)] if required else []
    return kind(label, filters=[strip], validators=[*validators, Length(max=max_length)], **options)


class StrictSelectField(SelectField):
    """A select whose value can only be one of its choices. Anything else was not typed
    by a person using the page, so it is a bad request (400), not a field message."""

    def pre_validate(self, form: Any) -> None:
        values = {str(value) for value, *_ in self.iter_choices()}
        if self.raw_data and str(self.raw_data[0]) not in values:
            raise TamperedInput()
        super().pre_validate(form)


class StrictMultiCheckboxField(SelectMultipleField):
    """Check boxes for a multiple choice; unknown values are a bad request (400)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        values = {str(value) for value, *_ in self.iter_choices()}
        if any(str(v) not in values for v in (self.raw_data or [])):
            raise TamperedInput()
        super().pre_validate(form)


DATE_MESSAGE = "Enter a real date as YYYY-MM-DD, for example 2011-12-06."


class FriendlyDateField(DateField):
    """A date field whose parse error says what to type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_value_message", DATE_MESSAGE)
        super().__init__(*args, **kwargs)


class IssueDateField(StringField):
    """An issue date as precise as the source: 2024-09-27, 2024-09 or FY2024, or "not
    known" (a text input: a date picker cannot take a month or a fiscal year). Its data is
    an IssueDate, or None with not_known set;
    text in none of the three forms gets a message saying which forms to use. Pair it
    with InputRequired, not DataRequired (which would replace that message)."""

    data: issue_dates.IssueDate | None  # type: ignore[assignment]
    # "not known" typed (or the report's date is not known): data is then None too
    not_known: bool = False

    def process_data(self, value: Any) -> None:
        self.data = issue_dates.IssueDate(value) if isinstance(value, date) else value

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data, self.not_known = None, False
        text = str(valuelist[0]).strip() if valuelist else ""
        if text:
            try:
                self.data = issue_dates.parse_or_not_known(text)
            except issue_dates.IssueDateError as exc:
                raise ValueError(str(exc)) from None
            self.not_known = self.data is None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.not_known:
            return NOT_KNOWN
        return self.data.text if self.data is not None else ""


class WholeNumberField(IntegerField):
    """A whole number in a text input (inputmode numeric in the form macro): a browser
    sends a type="number" value it cannot read (1e309) as an empty one. Text that is not
    a whole number gets its one message, not a range message as well."""

    widget = TextInput()

    def pre_validate(self, form: Any) -> None:
        typed = bool(self.raw_data and str(self.raw_data[0]).strip())
        if self.process_errors and typed:  # a blank is for Optional or InputRequired to judge
            raise StopValidation()
        super().pre_validate(form)


class NumberOrNotKnownField(WholeNumberField):
    """A whole number, or "not known" (data None, not_known set) for one no source gives.
    A text input without the numeric keypad hint, so the words can be typed. Pair it
    with InputRequired and NumberOrNotKnownRange."""

    not_known: bool = False

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.not_known = bool(valuelist) and is_not_known(str(valuelist[0]))
        if self.not_known:
            self.data = None
            return
        super().process_formdata(valuelist)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.not_known:
            return NOT_KNOWN
        return str(self.data) if self.data is not None else ""


class NumberOrNotKnownRange(NumberRange):
    """NumberRange, except that "not known" passes."""

    def __call__(self, form: Any, field: Any) -> None:
        if getattr(field, "not_known", False):
            return
        super().__call__(form, field)


class MoneyField(DecimalField):
    """A dollar amount: finite, not negative, at most cents, within Numeric(14, 2).

    A text input, not type="number": a browser sends a number input it cannot read as a
    double (1e309, "1,250") as an empty value, which would be saved as "Not recorded"."""

    MAX = Decimal("999999999999.99")
    widget = TextInput()

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and isinstance(valuelist[0], str):
            valuelist = [valuelist[0].replace(",", "").replace("$", "").strip()]
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Enter an amount in dollars, such as 1250000 or 1250000.00.") from exc
        value = self.data
        if value is None:
            return
        if not value.is_finite():
            self.data = None
            raise ValueError("Enter an amount in dollars, such as 1250000 or 1250000.00.")
        if value < 0:
            raise ValueError("The amount cannot be negative.")
        if value > self.MAX:
            raise ValueError("The amount is too large.")
        if value != value.quantize(Decimal("0.01")):
            raise ValueError("Use at most two decimal places (cents).")


class MissingVersion(BadRequest):
    description = MISSING_VERSION_MESSAGE


class VersionField(HiddenField):
    """The record's version when the form was loaded (optimistic locking; app/locking.py).

    A form that edits a record cannot be saved without it: leaving it out, or sending it
    empty, is a bad request (400) whatever else the form holds. `required=False` is for
    rows that may be new (empty means "not saved yet"); the service then decides.
    """

    data: int | None  # type: ignore[assignment]  # HiddenField's data is text; this one parses it

    def __init__(
        self, label: str | None = None, validators: Any = None, *, required: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.required = required

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = int(valuelist[0])
        except (TypeError, ValueError):
            raise TamperedInput() from None

    def pre_validate(self, form: Any) -> None:
        if self.required and self.data is None:
            raise MissingVersion()


def form_summary(form: Any, prefix: str = "") -> dict[str, str]:
    """What a person typed into a form, label by label, for a conflict page."""
    out: dict[str, str] = {}
    for field in form:
        if field.type in (
            "CSRFTokenField",
            "VersionField",
            "HiddenField",
            "SubmitField",
            "MultipleFileField",
        ):
            continue
        if field.type == "FieldList":
            for i, entry in enumerate(field.entries, 1):
                out.update(form_summary(entry.form, f"{prefix}{field.label.text} {i}: "))
            continue
        value = field.data
        if hasattr(field, "iter_choices"):
            labels = {str(c.value): c.label for c in field.iter_choices()}
            values = value if isinstance(value, list) else [value]
            value = ", ".join(labels.get(str(v), str(v)) for v in values if v not in (None, ""))
        elif field.type == "BooleanField":
            value = "Yes" if value else "No"
        out[f"{prefix}{field.label.text}"] = "—" if value in (None, "") else str(value)
    return out
