"""Job kinds: a name, the service that does the work, and whether it can resume.

Each app registers its kinds with :func:`job_kind`; the one huey task looks the kind up by name.
A handler receives the job row and a :class:`~hfplatform.jobs.progress.JobProgress` and returns
the result dict stored on the job. A resumable handler must be safe to call again after a crash
(it finds its own checkpoint) and reads ``job.attempts`` to know it is a retry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[..., dict[str, Any] | None]
#: What a finished job made, for its page: ``links(result) -> [(label, url)]`` from the result dict.
Links = Callable[[dict[str, Any]], list[tuple[str, str]]]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    resumable: bool = False
    title: str = ""
    links: Links | None = None


_KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, resumable: bool = False, title: str = "",
             links: Links | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the service that runs jobs of kind ``name``; ``links`` turns a
    finished job's result into links to what it made (its page lists them)."""

    def register(handler: Handler) -> Handler:
        existing = _KINDS.get(name)
        if existing is not None and existing.handler is not handler:
            raise RuntimeError(f"job kind {name!r} registered twice")
        _KINDS[name] = JobKind(name=name, handler=handler, resumable=resumable, title=title or name,
                               links=links)
        return handler

    return register


def get_job_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}") from None


def job_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)
