"""What each kind of job does. A feature registers its runner at import; the worker looks
it up by the job's kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Output:
    """A job's result: the file the user downloads."""

    data: bytes
    filename: str
    content_type: str
    details: dict[str, Any] = field(default_factory=dict)  # for the download's audit event (rows)
    # Writes that go with the result (a shared cache entry): run with the result's own
    # writes, after the runner's reads, so a runner itself only reads.
    then: Callable[[], None] | None = None


class JobRefused(Exception):
    """The job cannot be done as asked, for a reason the user can read (the user may no
    longer see what they asked for; too many rows). It fails without a retry."""


Progress = Callable[[str, int | None, int | None], None]  # stage, done, total


class Runner(Protocol):
    def __call__(self, session: Session, user: Any, params: dict[str, Any], progress: Progress) -> Output: ...


RUNNERS: dict[str, Runner] = {}
# Kinds whose runner writes records (an import): their transaction starts as a writer.
WRITERS: set[str] = set()


def register(kind: str, runner: Runner, *, writes: bool = False) -> None:
    RUNNERS[kind] = runner
    if writes:
        WRITERS.add(kind)


def runner_for(kind: str) -> Runner:
    try:
        return RUNNERS[kind]
    except KeyError:
        raise JobRefused(f"RecTrack does not know how to do “{kind}”.") from None
