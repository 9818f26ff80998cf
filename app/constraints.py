"""A constraint the database refused, in words, next to the form field it concerns.

Forms check uniqueness before they save; the database's constraints still refuse what
two saves racing each other would break (both checked, then both wrote). That is not
"the record changed after you opened it" (a version conflict, 409): it is a value the
records no longer accept, so the form shows again with the message by its field (422).
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError

from app.service_errors import ServiceError

AGAIN = "Nothing was saved; change it and save again."

# Constraint name → (form field, message). The fields are the forms' own names; None:
# the message goes at the top of the form.
CONSTRAINTS: dict[str, tuple[str | None, str]] = {
    "uq_reports_number": ("number", f"Another report with this number was saved a moment ago. {AGAIN}"),
    "uq_recommendations_report_id_number": (
        "number",
        f"Another recommendation with this number was saved on this report a moment ago. {AGAIN}",
    ),
    "uq_components_abbreviation": (
        "abbreviation",
        f"Another component with this abbreviation was saved a moment ago. {AGAIN}",
    ),
    "uq_users_email": ("email", f"An account with this e-mail address was saved a moment ago. {AGAIN}"),
    "uq_acronyms_acronym": ("acronym", f"This acronym was saved by someone else a moment ago. {AGAIN}"),
    "uq_addressees_recommendation_id_component_id": (
        None,
        f"This component was added to the recommendation by someone else a moment ago. {AGAIN}",
    ),
    "uq_addressees_one_lead": (
        None,
        f"Another component was made the lead a moment ago; a recommendation has one lead. {AGAIN}",
    ),
}

# SQLite names a unique constraint by its columns, not its name.
SQLITE_COLUMNS: dict[str, str] = {
    "reports.number": "uq_reports_number",
    "recommendations.report_id, recommendations.number": "uq_recommendations_report_id_number",
    "components.abbreviation": "uq_components_abbreviation",
    "users.email": "uq_users_email",
    "acronyms.acronym": "uq_acronyms_acronym",
    "addressees.recommendation_id, addressees.component_id": "uq_addressees_recommendation_id_component_id",
    "addressees.recommendation_id": "uq_addressees_one_lead",
}

OTHER = (
    "A value was refused because it breaks a rule of the records (another change may have "
    "been saved at the same moment). Nothing was saved; check the form and save again."
)


class ConstraintError(ServiceError):
    """A value the database refused: `constraint` names the rule, when known."""

    def __init__(self, message: str, field: str | None, constraint: str | None) -> None:
        super().__init__(message, field, status=422)
        self.constraint = constraint


def constraint_name(exc: IntegrityError) -> str | None:
    """The refused constraint's name, from PostgreSQL's diagnostics or SQLite's message."""
    diag = getattr(exc.orig, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    text = str(exc.orig)
    if match := re.search(r"UNIQUE constraint failed: ([\w., ]+)", text):
        return SQLITE_COLUMNS.get(match.group(1).strip(), match.group(1).strip())
    if match := re.search(r"CHECK constraint failed: (\w+)", text):
        return match.group(1)
    return None


def refusal(exc: IntegrityError) -> ConstraintError:
    """The refusal in words, with the form field it belongs to when the constraint says."""
    name = constraint_name(exc)
    field, message = CONSTRAINTS.get(name or "", (None, OTHER))
    return ConstraintError(message, field, name)
