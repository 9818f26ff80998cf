"""A small file cache for rendered PDFs, shared by every app worker on a machine.

Keys are hashes of everything a PDF depends on, so a stale entry is never served: a
write anywhere changes the data version and with it every key."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_key(parts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


class PdfCache:
    def __init__(self, root: Path, max_files: int = 500) -> None:
        self.root = root
        self.max_files = max_files

    def _path(self, key: str) -> Path:
        return self.root / f"{key}.pdf"

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, pdf: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".pdf-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
        os.replace(tmp, self._path(key))
        self._prune()

    def _prune(self) -> None:
        files = sorted(self.root.glob("*.pdf"), key=_mtime)
        for old in files[: max(0, len(files) - self.max_files)]:
            old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # another worker pruned it meanwhile
        return 0.0
