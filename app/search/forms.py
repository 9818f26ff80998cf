"""The acronym forms (administrators)."""

from flask_wtf import FlaskForm
from wtforms import StringField

from app.forms import VersionField, text_field


class AcronymForm(FlaskForm):
    acronym = text_field(
        StringField,
        "Acronym",
        40,
        required="Enter the acronym.",
        description="As reports write it, such as HSIN.",
    )
    expansion = text_field(
        StringField,
        "What it stands for",
        200,
        required="Enter what the acronym stands for.",
        description="Spelled out, such as Homeland Security Information Network.",
    )


class AcronymEditForm(AcronymForm):
    version = VersionField()


class AcronymDeleteForm(FlaskForm):
    version = VersionField()
