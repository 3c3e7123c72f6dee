"""The bench script runs without Django and prints both sides and their ratio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.factories.images import CACHE_DIR

ROOT = Path(__file__).resolve().parents[3]


def test_bench_runs_on_a_few_photos(corpus_wheel_path):
    done = subprocess.run(
        [sys.executable, "bench/face_pipeline.py", "--photos", "3", "--repeat", "1", "--cache", CACHE_DIR],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},  # no DJANGO_SETTINGS_MODULE
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "3 CelebA photos" in out
    assert "photos/s" in out
    assert "ratio ours/bare time" in out
    assert "ours  cascade (default)" in out
    assert "ours  HOG alone" in out
    for step in ("detect", "landmarks", "pose", "quality", "skin_tone", "embedding"):
        assert f"  {step} " in out
    assert "django" not in done.stderr.lower()
