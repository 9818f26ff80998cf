"""The e-mail preferences form."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.validators import InputRequired

from app.forms import StrictMultiCheckboxField, VersionField, select_choices
from app.models import DigestFrequency, NoticeKind


class PreferencesForm(FlaskForm):
    digest = RadioField(
        "Digest of what is due",
        choices=select_choices(DigestFrequency.choices()),
        validators=[InputRequired("Choose how often to get the digest, or Never.")],
    )
    notices = StrictMultiCheckboxField(
        "Event notices",
        choices=select_choices(NoticeKind.choices()),
        description="A message when one of these happens to an item you may see.",
    )
    follow_summary = BooleanField(
        "Weekly summary of what I follow",
        description="Each Monday, the past week's status changes in the reports and components you follow.",
    )
    # Empty until the first save (the defaults have no version yet).
    version = VersionField(required=False)
