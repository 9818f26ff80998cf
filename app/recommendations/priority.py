"""Priority recommendations: a flag OIG staff set or clear, always with a reason.

CIGIE's definition (the form's help text): priority recommendations are those whose
implementation would most benefit the agency's mission, operations, programs or funds,
weighing monetary impact, waste and fraud, efficiency, and health, safety and national
security. The flag is the current state (no history replay); the audit trail keeps each
change with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.lifecycle.workflow import check_version
from app.locking import UNCHECKED, Expected
from app.models import Recommendation
from app.recommendations.services import RecommendationError

DEFINITION = (
    "Priority recommendations are those whose implementation would most benefit the agency's "
    "mission, operations, programs or funds, weighing monetary impact, waste and fraud, "
    "efficiency, and health, safety and national security (CIGIE)."
)
REASON_MAX = 2000
REASON_MISSING = "Give the reason for this priority decision; it is kept and shown on the recommendation."


@dataclass
class PriorityData:
    priority: bool
    reason: str
    version: Expected = UNCHECKED


def check_priority(priority: bool, reason: str) -> str:
    """The reason, cleaned; RecommendationError when missing or too long (field "reason")."""
    reason = reason.strip()
    if not reason:
        raise RecommendationError(REASON_MISSING, field="reason")
    if len(reason) > REASON_MAX:
        raise RecommendationError(f"Keep the reason under {REASON_MAX:,} characters.", field="reason")
    return reason


def set_priority(session: Session, rec: Recommendation, data: PriorityData) -> bool:
    """Set or clear the flag with its reason (also a corrected reason on an unchanged
    flag). Returns whether anything changed. Flushes; the caller commits."""
    check_version(rec, data.version)
    reason = check_priority(data.priority, data.reason)
    if rec.priority == data.priority and rec.priority_reason == reason:
        return False
    rec.priority = data.priority
    rec.priority_reason = reason
    session.flush()
    return True
