"""All models, imported here so Alembic and the app see the whole schema."""

from app.models.audit import AuditEvent
from app.models.component import Component
from app.models.enums import Concurrence, RecStatus, ReportType, Role, Sensitivity, TextSource
from app.models.recommendation import Addressee, Recommendation
from app.models.report import Report, report_components
from app.models.user import User, user_components

__all__ = [
    "Addressee",
    "AuditEvent",
    "Component",
    "Concurrence",
    "RecStatus",
    "Recommendation",
    "Report",
    "ReportType",
    "Role",
    "Sensitivity",
    "TextSource",
    "User",
    "report_components",
    "user_components",
]
