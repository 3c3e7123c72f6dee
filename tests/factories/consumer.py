"""Start a real huey consumer process on the test database, media folder and queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Consumer:
    """``manage.py run_huey`` in a child process; ``kill()`` is a SIGKILL, like a crashed host."""

    def __init__(self, log_path: Path) -> None:
        env = {**os.environ, "DJANGO_PROFILE": "test", "DATABASE_URL": database_url(),
               "MEDIA_ROOT": str(settings.MEDIA_ROOT), "HUEY_NAME": settings.HUEY_NAME,
               "HUEY_WORKERS": "1"}
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)  # reaped: its pid is gone, as after a real crash

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_for(condition: Callable[[], bool], *, timeout: float = 60, what: str = "condition",
             consumer: Consumer | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if consumer is not None and consumer.process.poll() is not None:
            raise AssertionError(f"consumer exited early:\n{consumer.log()}")
        time.sleep(0.05)
    detail = f"\nconsumer log:\n{consumer.log()}" if consumer else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}")
