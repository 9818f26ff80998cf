"""Forms for each lifecycle step. Shape only: the workflow checks the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.forms import FriendlyDateField, StrictSelectField, VersionField, select_choices, strip
from app.lifecycle.attachments import ACCEPTED_ENDINGS
from app.lifecycle.steps import NO_CHANGE_NOTE_MAX
from app.models import Concurrence

DOCUMENTS_HINT = f"Optional. {ACCEPTED_ENDINGS} files; each checked by its content."


class _Step(FlaskForm):
    version = VersionField()


class ResponseForm(_Step):
    concurrence = StrictSelectField(
        "Does the component concur?",
        choices=select_choices([(c.value, c.label) for c in Concurrence if c != Concurrence.PENDING]),
    )
    response = TextAreaField(
        "Management response",
        description="The component's written answer to the recommendation.",
        filters=[strip],
        validators=[DataRequired("Enter the component's response."), Length(max=20000)],
    )
    corrective_action_plan = TextAreaField(
        "Corrective action plan",
        description="What will be done, in steps. Not needed for a non-concurrence.",
        filters=[strip],
        validators=[Length(max=20000)],
    )
    target_date = FriendlyDateField(
        "Target completion date", description="When the plan will be complete.", validators=[Optional()]
    )
    responsible_official = StringField(
        "Responsible official", description="Name and title.", filters=[strip], validators=[Length(max=200)]
    )
    documents = MultipleFileField("Supporting documents", description=DOCUMENTS_HINT)


class NoteForm(_Step):
    note = TextAreaField("Note (optional)", filters=[strip], validators=[Length(max=5000)])


class ReasonForm(_Step):
    reason = TextAreaField(
        "Reason",
        description="The liaison sees this.",
        filters=[strip],
        validators=[DataRequired("Give a reason."), Length(max=5000)],
    )


class UpdateForm(_Step):
    text = TextAreaField(
        "Progress since the last update",
        filters=[strip],
        validators=[DataRequired("Describe the progress made."), Length(max=20000)],
    )
    new_target_date = FriendlyDateField(
        "New target completion date",
        description="Only if the date moves. The old date stays in the history.",
        validators=[Optional()],
    )
    target_change_reason = TextAreaField(
        "Why the target date moves", filters=[strip], validators=[Length(max=5000)]
    )
    documents = MultipleFileField("Supporting documents", description=DOCUMENTS_HINT)


class NoChangeForm(_Step):
    """A progress update that keeps the plan and the target date: one short note."""

    no_change_note = TextAreaField(
        "Note",
        description=f"Why nothing changed, in a sentence (at most {NO_CHANGE_NOTE_MAX} characters).",
        filters=[strip],
        validators=[DataRequired("Say in a few words why nothing changed."), Length(max=NO_CHANGE_NOTE_MAX)],
    )


class ClosureRequestForm(_Step):
    justification = TextAreaField(
        "Why the recommendation can be closed",
        description="What was done, and where the evidence shows it.",
        filters=[strip],
        validators=[DataRequired("Explain why the recommendation can be closed."), Length(max=20000)],
    )
    documents = MultipleFileField("Evidence", description=DOCUMENTS_HINT)


class CloseForm(_Step):
    outcome = StrictSelectField(
        "Decision",
        choices=select_choices(
            [("implemented", "Closed–Implemented"), ("not_implemented", "Closed–Not implemented")]
        ),
    )
    note = TextAreaField(
        "Reason",
        description="Required when closing as not implemented.",
        filters=[strip],
        validators=[Length(max=5000)],
    )
