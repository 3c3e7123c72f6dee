"""What a running job uses to report progress, log lines and heartbeats to its row."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from django.utils import timezone

from hfplatform.jobs.models import Job, JobStatus

LOG_LINES_KEPT = 200
LOG_LINE_MAX_CHARS = 500


class JobInterrupted(Exception):
    """The row stopped being ours while we ran: cancelled by a person or taken over by recovery."""


class JobProgress:
    """Throttled writer for one running job.

    Every write is conditional on the row still being ``running`` under this worker; when it is
    not (cancelled, or recovered after a missed heartbeat) the handler gets :class:`JobInterrupted`
    at its next report and stops. Writes happen at most every ``min_interval`` seconds unless
    forced, so a training loop may report every step.
    """

    def __init__(self, job: Job, worker: str, *, min_interval: float = 0.5) -> None:
        self.job_id = job.pk
        self.worker = worker
        self.min_interval = min_interval
        self._progress = job.progress
        self._message = job.message
        self._log: deque[str] = deque(job.log_tail.splitlines(), maxlen=LOG_LINES_KEPT)
        self._dirty = False
        self._last_write = 0.0
        self._result: dict[str, Any] | None = None

    @property
    def message(self) -> str:
        return self._message

    @property
    def log_tail(self) -> str:
        return "\n".join(self._log)

    def update(self, progress: float | None = None, message: str | None = None, *,
               force: bool = False) -> None:
        """Set progress (0-100) and/or the one-line message."""
        if progress is not None:
            self._progress = max(0, min(100, int(progress)))
            self._dirty = True
        if message is not None and message != self._message:
            self._message = message[:300]
            self._dirty = True
        self._maybe_write(force)

    def step(self, done: int, total: int, message: str | None = None) -> None:
        """Progress as ``done`` of ``total`` units of work."""
        self.update(100 * done / total if total else 100, message)

    def log(self, line: str) -> None:
        """Append a line to the job's log tail (the last 200 lines are kept)."""
        stamp = timezone.now().strftime("%H:%M:%S")
        self._log.append(f"{stamp} {line}"[:LOG_LINE_MAX_CHARS])
        self._dirty = True
        self._maybe_write(False)

    def partial_result(self, result: dict[str, Any]) -> None:
        """Show a result while running (e.g. the loss curve so far); the final result replaces it."""
        self._result = result
        self._dirty = True
        self._maybe_write(False)

    def heartbeat(self) -> None:
        """Say "still alive" during long work that has no progress to report."""
        self._maybe_write(False, heartbeat_only=True)

    def flush(self) -> None:
        self._maybe_write(True)

    # ------------------------------------------------------------------------------------------

    def _maybe_write(self, force: bool, heartbeat_only: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < self.min_interval:
            return
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if (self._dirty and not heartbeat_only) or force:
            fields.update(progress=self._progress, message=self._message, log_tail=self.log_tail)
            if self._result is not None:
                fields["result"] = self._result
        updated = Job.objects.filter(
            pk=self.job_id, status=JobStatus.RUNNING, worker=self.worker
        ).update(**fields)
        self._last_write = now
        if "progress" in fields:
            self._dirty = False
        if updated == 0:
            raise JobInterrupted(f"job {self.job_id} is no longer running on {self.worker}")
