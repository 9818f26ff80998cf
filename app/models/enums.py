"""Enumerations stored as CHECK-constrained strings. `label` is what people read."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Self


class LabeledEnum(StrEnum):
    """A string enum whose members carry a human label."""

    label: str

    if TYPE_CHECKING:
        # `Role("admin")` looks a member up by its value; the two-argument __new__ below
        # only builds the members when the class is created.
        def __new__(cls, value: str) -> Self: ...

    else:

        def __new__(cls, value: str, label: str) -> LabeledEnum:
            member = str.__new__(cls, value)
            member._value_ = value
            member.label = label
            return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class Role(LabeledEnum):
    ADMIN = "admin", "Administrator"
    OIG = "oig", "OIG staff"
    LIAISON = "liaison", "Component liaison"
    VIEWER = "viewer", "Congressional staff (read-only)"


class ReportType(LabeledEnum):
    AUDIT = "audit", "Audit"
    INSPECTION = "inspection", "Inspection"
    EVALUATION = "evaluation", "Evaluation"
    REVIEW = "review", "Review"
    MANAGEMENT_ALERT = "management_alert", "Management alert"
    MANAGEMENT_ADVISORY = "management_advisory", "Management advisory"
    VERIFICATION_REVIEW = "verification_review", "Verification review"
    SPECIAL_REPORT = "special_report", "Special report"
    INVESTIGATION = "investigation", "Investigation"
    OTHER = "other", "Other"


class IssuePrecision(LabeledEnum):
    """How precisely a report's issue date is known: to the day, the month or only the
    federal fiscal year (FY2024: October 1, 2023 to September 30, 2024)."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    FISCAL_YEAR = "fiscal_year", "Fiscal year"


class ListedStatus(LabeledEnum):
    """A status as an outside source (oversight.gov) listed it: a fact about that page,
    not a decision recorded in RecTrack."""

    OPEN = "open", "open"
    CLOSED = "closed", "closed"
    OPEN_UNRESOLVED = "open_unresolved", "open and unresolved"
    OPEN_RESOLVED = "open_resolved", "open and resolved"


class Sensitivity(LabeledEnum):
    PUBLIC = "public", "Public"
    RESTRICTED = "restricted", "Restricted"


class TextSource(LabeledEnum):
    VERBATIM = "verbatim", "Verbatim"
    SUMMARY = "summary", "Summary"
    PARTIAL = "partial", "Partial: cut off in every copy read"


class RecStatus(LabeledEnum):
    OPEN_UNRESOLVED = "open_unresolved", "Open–Unresolved"
    OPEN_RESOLVED = "open_resolved", "Open–Resolved"
    CLOSED_IMPLEMENTED = "closed_implemented", "Closed–Implemented"
    CLOSED_NOT_IMPLEMENTED = "closed_not_implemented", "Closed–Not implemented"

    @property
    def is_open(self) -> bool:
        return self in (RecStatus.OPEN_UNRESOLVED, RecStatus.OPEN_RESOLVED)

    @classmethod
    def open_values(cls) -> tuple[RecStatus, ...]:
        return (cls.OPEN_UNRESOLVED, cls.OPEN_RESOLVED)

    @classmethod
    def closed_values(cls) -> tuple[RecStatus, ...]:
        return (cls.CLOSED_IMPLEMENTED, cls.CLOSED_NOT_IMPLEMENTED)


class Concurrence(LabeledEnum):
    PENDING = "pending", "Pending"
    CONCUR = "concur", "Concur"
    PARTIAL = "partially_concur", "Partially concur"
    NON_CONCUR = "non_concur", "Non-concur"


class ResponseState(LabeledEnum):
    """Where one addressee's written response stands with the OIG."""

    NONE = "none", "No response yet"
    SUBMITTED = "submitted", "Submitted, awaiting OIG evaluation"
    ACCEPTED = "accepted", "Accepted by the OIG"
    RETURNED = "returned", "Returned by the OIG"


class ClosureState(LabeledEnum):
    """Where one addressee's request to close stands."""

    NONE = "none", "Not requested"
    REQUESTED = "requested", "Closure requested, awaiting OIG decision"
    RETURNED = "returned", "Closure request returned"
    ACCEPTED = "accepted", "Closure accepted"


class EventKind(LabeledEnum):
    """Kinds of recommendation history events (append-only)."""

    CREATED = "created", "Issued"
    CONCURRENCE_RECORDED = "concurrence_recorded", "Concurrence recorded"
    RESPONSE_SUBMITTED = "response_submitted", "Response submitted"
    RESPONSE_REVISED = "response_revised", "Response revised"
    RESPONSE_ACCEPTED = "response_accepted", "Response accepted"
    RESPONSE_RETURNED = "response_returned", "Response returned"
    RESOLVED = "resolved", "Resolved"
    UPDATE_POSTED = "update_posted", "Progress update"
    CLOSURE_REQUESTED = "closure_requested", "Closure requested"
    CLOSURE_RETURNED = "closure_returned", "Closure request returned"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"
