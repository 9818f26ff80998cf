"""Sign-in and password forms. Forms check shape; services check credentials."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

from app.auth.passwords import MAX_LENGTH
from app.forms import text_field


class LoginForm(FlaskForm):
    email = text_field(EmailField, "E-mail address", 254, required="Enter your e-mail address.")
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)],
    )
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    password = PasswordField("New password", validators=[DataRequired("Enter a new password.")])
    confirm = PasswordField("New password again", validators=[DataRequired("Enter the new password again.")])


class ForgotPasswordForm(FlaskForm):
    email = text_field(EmailField, "E-mail address", 254, required="Enter your e-mail address.")


class NewPasswordForm(FlaskForm):
    """The new password chosen through an e-mailed reset link."""

    password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=MAX_LENGTH)]
    )
    confirm = PasswordField("New password again", validators=[DataRequired("Enter the new password again.")])
