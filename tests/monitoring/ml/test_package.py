"""The package's public names resolve, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

import monitoring.ml
from tests.factories.images import REPO


def test_public_names_resolve():
    for name in monitoring.ml.__all__:
        assert getattr(monitoring.ml, name) is not None, name
    assert set(monitoring.ml.__all__) <= set(dir(monitoring.ml))


def test_import_does_not_load_torch():
    code = "import sys, monitoring.ml, hfplatform.ml.weights; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
