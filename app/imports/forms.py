"""The import upload form."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField


class UploadForm(FlaskForm):
    file = FileField(
        "Spreadsheet",
        description="CSV (UTF-8) or Excel .xlsx, with the template's column names in the first row.",
        validators=[FileRequired("Choose a CSV or XLSX file.")],
    )


class CommitForm(FlaskForm):
    token = HiddenField()
