"""The form that makes a personal access token (revoking uses the shared ConfirmForm)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField
from wtforms.validators import InputRequired, ValidationError

from app import clock
from app.forms import FriendlyDateField, TamperedInput, select_choices, text_field
from app.models import Role, TokenScope
from app.tokens import services
from app.tokens.services import NAME_LENGTH


class StrictRadioField(RadioField):
    """Radio buttons whose value can only be one of the choices shown: another value was
    not chosen on the page (a viewer's forged "write"), so it is a bad request (400)."""

    def pre_validate(self, form: Any) -> None:
        values = {str(value) for value, *_ in self.iter_choices()}
        if self.raw_data and str(self.raw_data[0]) not in values:
            raise TamperedInput()
        super().pre_validate(form)


class TokenForm(FlaskForm):
    name = text_field(
        StringField,
        "Name",
        NAME_LENGTH,
        required="Give the token a name, so you can tell it apart later.",
        description="What the token is for, such as “FEMA tracker sync”.",
    )
    scope = StrictRadioField(
        "What the token may do",
        validators=[InputRequired("Choose what the token may do.")],
    )
    expires_on = FriendlyDateField(
        "Expires on", validators=[InputRequired("Choose the day the token expires.")]
    )

    def validate_expires_on(self, field: FriendlyDateField) -> None:
        """The date's range, beside the other fields' messages (the service checks it again)."""
        if field.data is not None:
            try:
                services.check_expiry_day(field.data, clock.today())
            except services.TokenError as exc:
                raise ValidationError(exc.message) from None

    def offer_scopes(self, user: Any) -> None:
        """Read for everyone; read and write except for a read-only account (viewer)."""
        scopes = [TokenScope.READ] if user.role == Role.VIEWER else [TokenScope.READ, TokenScope.WRITE]
        self.scope.choices = select_choices((s.value, s.label) for s in scopes)
