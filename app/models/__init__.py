"""All models, imported here so Alembic and the app see the whole schema."""

from app.models.audit import AuditEvent
from app.models.component import Component
from app.models.enums import (
    ClosureState,
    Concurrence,
    EventKind,
    IssuePrecision,
    ListedStatus,
    RecStatus,
    ReportType,
    ResponseState,
    Role,
    Sensitivity,
    TextSource,
)
from app.models.follow import Follow
from app.models.history import Attachment, RecommendationEvent
from app.models.job import Job, JobState, PdfCacheEntry, WorkerHeartbeat
from app.models.mail import DigestFrequency, MailPreference, NoticeKind, OutboxMessage, OutboxState
from app.models.mfa import FactorKind, MfaFactor, RecoveryCode
from app.models.opendata import OpenDataFile
from app.models.password_reset import PasswordResetToken
from app.models.periods import AddresseePeriod, RecommendationPeriod
from app.models.recommendation import Addressee, Recommendation
from app.models.report import Report, report_components
from app.models.search import Acronym, SearchDocument
from app.models.sso import SsoIdentity
from app.models.storage import Blob, StagedUpload
from app.models.token import ApiToken, TokenScope
from app.models.user import User, user_components
from app.models.version import DataVersion

__all__ = [
    "Acronym",
    "Addressee",
    "AddresseePeriod",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Blob",
    "ClosureState",
    "Component",
    "Concurrence",
    "DataVersion",
    "DigestFrequency",
    "EventKind",
    "FactorKind",
    "Follow",
    "IssuePrecision",
    "Job",
    "JobState",
    "ListedStatus",
    "MailPreference",
    "MfaFactor",
    "NoticeKind",
    "OpenDataFile",
    "OutboxMessage",
    "OutboxState",
    "PasswordResetToken",
    "PdfCacheEntry",
    "RecStatus",
    "Recommendation",
    "RecommendationEvent",
    "RecommendationPeriod",
    "RecoveryCode",
    "Report",
    "ReportType",
    "ResponseState",
    "Role",
    "SearchDocument",
    "Sensitivity",
    "SsoIdentity",
    "StagedUpload",
    "TextSource",
    "TokenScope",
    "User",
    "WorkerHeartbeat",
    "report_components",
    "user_components",
]
