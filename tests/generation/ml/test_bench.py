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


def test_generator_sizes_bench_compares_a_grown_generator_on_held_out_people(corpus_wheel_path, tmp_path):
    import json

    from generation.ml.generator import load_generator, save_generator
    from tests.factories.generation import tiny_generator
    from tests.factories.images import TORCH_HOME

    small = tiny_generator(tmp_path / "small", attention=True)
    (small / "dataset.json").write_text(json.dumps({"heldout_refs": ["000006.jpg", "000012.jpg"]}))
    unet, config, _, _ = load_generator(small)
    large = save_generator(unet, config.at_size(128), tmp_path / "large", {"fingerprint": "grown"})

    def bench(large_folder: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "bench/generator_sizes.py", "--small", str(small), "--large", str(large_folder),
             "--people", "1", "--threads", "1", "--cache", CACHE_DIR, "--torch-home", str(TORCH_HOME)],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
            env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},  # no DJANGO_SETTINGS_MODULE
        )

    done = bench(large)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "small: small at 64 px; large:" in out
    assert "1 held-out people of small, against the clean 128-px portrait" in out
    for arm in ("64 + network", "64 + Lanczos", "128 native", "casual 128"):
        assert f"| {arm} | " in out
    assert "Paired, 128 native − 64 + network:" in out
    assert "lpips v0.1 alex" in out
    refused = bench(small)  # not twice the side
    assert refused.returncode == 2
    assert "--large must be twice the side of --small" in refused.stderr
