"""Second-factor forms. Forms check shape; services check codes."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.auth.passwords import MAX_LENGTH
from app.forms import text_field


class TotpForm(FlaskForm):
    """Enrol an authenticator app: its name and the first code it shows."""

    name = text_field(StringField, "Name", 100, required="Give the app a name, such as “Work phone”.")
    code = text_field(StringField, "Code from the app", 20, required="Type the 6-digit code your app shows.")


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    method = HiddenField(default="totp")
    code = text_field(StringField, "Code", 40, required="Type the code.")


class ReauthForm(FlaskForm):
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)]
    )
    next = HiddenField()
