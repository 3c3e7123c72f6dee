"""A platform in one process for the bench scripts that run the platform's services end to end: a
throwaway SQLite database and media, reward and generator folders under ``folder`` (the weights and
the corpus wheel still come from ``var/``, as for ``make run``), and a timestamped progress line."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def setup(folder: Path) -> None:
    """Point Django at ``folder``, set it up and migrate the empty database."""
    os.environ.update({"DJANGO_SETTINGS_MODULE": "hfplatform.settings", "DJANGO_PROFILE": "development",
                       "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
                       "MEDIA_ROOT": str(folder / "media"), "REWARD_ROOT": str(folder / "reward"),
                       "GENERATOR_ROOT": str(folder / "generators")})
    os.environ.pop("REDIS_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--no-input", verbosity=0)


def say(message: str, started: float) -> None:
    """``[  12 s] message``, seconds since ``started`` (a ``time.perf_counter()`` value)."""
    print(f"[{time.perf_counter() - started:6.0f} s] {message}", flush=True)


def run_throwaway(run: Callable[[Any, float], None], args: Any) -> None:
    """``run(args, started)`` on a platform set up in a temporary folder, removed afterwards."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        setup(Path(tmp))
        run(args, started)
