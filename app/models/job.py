"""Background jobs: work too slow for a web request (uncached PDFs, large exports), run by
a worker while the user watches its progress, with the result kept for a while."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.database import JSONType, UTCDateTime, enum_type, utcnow
from app.extensions import Model
from app.models.enums import LabeledEnum

if TYPE_CHECKING:
    from app.models.user import User


class JobState(LabeledEnum):
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Working"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.EXPIRED)


class Job(Model):
    """One piece of background work asked for by one user. `key` names the work (the
    PDF's cache key, an export's filters and data version): the same key asked again while
    a job for it is queued, running or done gives that job back, so a double click, a
    retried request or a redelivered task makes one result."""

    __tablename__ = "jobs"
    # Bookkeeping, not data: asking for a file must not move the data version (the PDF
    # cache key) or fill the audit trail with progress. Downloads are audited.
    __audited__ = False

    # Random and unguessable (uuid4 hex): it appears in addresses.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))  # what the user asked for, in words
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    key: Mapped[str] = mapped_column(sa.String(64), index=True)
    state: Mapped[JobState] = mapped_column(enum_type(JobState, "job_state"), default=JobState.QUEUED)
    stage: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    done_count: Mapped[int | None] = mapped_column()
    total_count: Mapped[int | None] = mapped_column()
    result_sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    result_name: Mapped[str | None] = mapped_column(sa.String(200))
    result_type: Mapped[str | None] = mapped_column(sa.String(120))
    result_size: Mapped[int | None] = mapped_column()
    error: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    worker: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.Index("ix_jobs_user_key", "user_id", "key"),
        sa.CheckConstraint("done_count IS NULL OR done_count >= 0", name="done_count_not_negative"),
    )

    @property
    def percent(self) -> int | None:
        """How far along, when a count is known."""
        if not self.total_count or self.done_count is None:
            return None
        return min(100, round(100 * self.done_count / self.total_count))


class WorkerHeartbeat(Model):
    """The last sign of life of each background worker (admins see which are alive)."""

    __tablename__ = "worker_heartbeats"
    __audited__ = False

    hostname: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    jobs_done: Mapped[int] = mapped_column(default=0, server_default="0")


class PdfCacheEntry(Model):
    """A rendered status PDF, shared by every app server and worker: the cache key
    (app.pdf.services.etag_for: the request, what the reader may see, the data version and
    the content rules) names a blob. A write moves the data version, so an entry is never
    served for data it does not show; entries expire with job results."""

    __tablename__ = "pdf_cache"
    __audited__ = False

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
