"""The one base class for a rule a service refuses to break.

A service raises a subclass (ReportError, AccountError, WorkflowError, ...) with the
message in words, the form field it concerns (a dotted path such as
"addressees.1.component_id", or None for the form as a whole) and the HTTP status a page
answers with when there is no form to show it on. `app.web.save` turns it into a message
next to the field, after rolling back.
"""

from __future__ import annotations


class ServiceError(ValueError):
    """A refused change: `message`, the `field` it belongs to, and its HTTP `status`
    (422 by default: the request was understood, its content breaks a rule)."""

    status: int = 422
    field: str | None = None

    def __init__(self, message: str, field: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if status is not None:
            self.status = status
