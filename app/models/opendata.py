"""The open-data files (app/opendata): the newest bulk file of public recommendations in
each format. The bytes are a blob (app.storage), so every web server serves the same file;
a new build replaces the row of its format, and the old bytes are then unreferenced and
collected by `storage gc`."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.database import UTCDateTime
from app.extensions import Model


class OpenDataFile(Model):
    """One published file, named as it is downloaded (recommendations.csv)."""

    __tablename__ = "open_data_files"
    # A file made from audited rows, not a record: each build is an explicit audit event.
    __audited__ = False

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    as_of: Mapped[date] = mapped_column()  # the OIG's today when it was built
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_type: Mapped[str] = mapped_column(sa.String(80))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size_bytes: Mapped[int] = mapped_column()
    rows: Mapped[int] = mapped_column()  # recommendations in the file
    withheld: Mapped[int] = mapped_column()  # recommendations left out: not public

    __table_args__ = (
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
        sa.CheckConstraint("rows >= 0 AND withheld >= 0", name="counts_not_negative"),
    )
