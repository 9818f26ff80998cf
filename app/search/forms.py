"""The acronym forms (administrators)."""

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from app.forms import VersionField, strip


class AcronymForm(FlaskForm):
    acronym = StringField(
        "Acronym",
        description="As reports write it, such as HSIN.",
        filters=[strip],
        validators=[DataRequired("Enter the acronym."), Length(max=40)],
    )
    expansion = StringField(
        "What it stands for",
        description="Spelled out, such as Homeland Security Information Network.",
        filters=[strip],
        validators=[DataRequired("Enter what the acronym stands for."), Length(max=200)],
    )


class AcronymEditForm(AcronymForm):
    version = VersionField()


class AcronymDeleteForm(FlaskForm):
    version = VersionField()
