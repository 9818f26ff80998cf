"""Account administration forms."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from app.forms import (
    StrictMultiCheckboxField,
    StrictSelectField,
    VersionField,
    select_choices,
    strip,
    text_field,
)
from app.models import Role


class UserForm(FlaskForm):
    display_name = text_field(StringField, "Name", 120, required="Enter a name.")
    role = StrictSelectField("Role", choices=select_choices(Role.choices()))
    components = StrictMultiCheckboxField(
        "Components served", description="Liaisons only: they act for these components.", coerce=int
    )
    active = BooleanField("Account is active", default=True)
    version = VersionField()


class NewUserForm(UserForm):
    version = None  # type: ignore[assignment]  # a new account has no version yet
    email = EmailField(
        "E-mail address",
        filters=[strip],
        validators=[
            DataRequired("Enter an e-mail address."),
            Email("Enter an e-mail address such as name@agency.gov."),
            Length(max=254),
        ],
    )
    password = PasswordField(
        "Initial password",
        description=(
            "15 to 128 characters, not a common or breached password. "
            "Give it to the person by a separate channel."
        ),
        validators=[DataRequired("Enter an initial password.")],
    )


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Enter a new password.")])
    confirm = PasswordField("New password again", validators=[DataRequired("Enter the new password again.")])
