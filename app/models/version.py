"""One counter that every writing transaction bumps: the "data version" that caches of
derived data (dashboard numbers, PDFs) are keyed on."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model


class DataVersion(Model):
    __tablename__ = "data_versions"
    __audited__ = False

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
