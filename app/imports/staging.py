"""Where an upload waits, per user, between its dry run and its commit."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

TOKEN_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Staged:
    data: bytes
    filename: str


class Staging:
    def __init__(self, root: Path, user_id: int) -> None:
        self.root = root
        self.user_id = user_id

    def _path(self, token: str) -> Path:
        if not TOKEN_RE.match(token):
            raise ValueError("not a staging token")
        return self.root / f"{self.user_id}-{token}"

    def put(self, data: bytes, filename: str) -> str:
        """Keep the file; its token (the content hash) names it in the commit form."""
        token = hashlib.sha256(data).hexdigest()
        path = self._path(token)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.with_suffix(".name").write_text(filename)
        return token

    def get(self, token: str) -> Staged | None:
        """The waiting file, or None when nothing waits under this token (ValueError
        for a token this code did not make)."""
        path = self._path(token)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        name = path.with_suffix(".name")
        return Staged(data, name.read_text() if name.exists() else "upload")

    def discard(self, token: str) -> None:
        path = self._path(token)
        path.unlink(missing_ok=True)
        path.with_suffix(".name").unlink(missing_ok=True)
