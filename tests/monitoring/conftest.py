"""Fixtures for monitoring: a tiny generator version over a few corpus people."""

from __future__ import annotations

import pytest

from tests.factories.generation import tiny_generator


@pytest.fixture
def corpus_subjects(db):
    from generation.faces.services import face_corpus_import
    from generation.models import Subject

    face_corpus_import(limit=12)
    # Only people whose photo passed the face gates count as held out (some corpus photos do not).
    return list(Subject.objects.filter(photos__status="accepted", photos__aligned_crops__has_key="64")
                .distinct().order_by("pk"))


@pytest.fixture
def version(corpus_subjects, tmp_path, engineer):
    from generation.generator.services import generator_version_register

    return generator_version_register(name="tiny-m", files_dir=tiny_generator(tmp_path / "g"),
                                      heldout=corpus_subjects[:5])


# --- The promotion gate ---------------------------------------------------------------------------


@pytest.fixture
def gate_baseline(corpus_subjects, tmp_path, engineer):
    """The active version: an untrained generator (outputs raised by nothing) over 5 held-out people."""
    from generation.generator.services import generator_version_register
    from tests.factories.promotion import shifted_generator

    return generator_version_register(name="gate-base", files_dir=shifted_generator(tmp_path / "base"),
                                      heldout=corpus_subjects[:5], activate=True)


@pytest.fixture
def make_candidate(gate_baseline, tmp_path):
    """A fine-tuned child of the active version (it inherits its held-out people): the same weights with
    its output raised by ``shift``; ``training_reward`` names the reward model it was trained against."""
    from generation.generator.services import generator_version_register
    from generation.models import GeneratorVersion
    from tests.factories.promotion import shifted_generator

    def make(name: str = "gate-cand", shift: float = 0.3, training_reward: str | None = None):
        version = generator_version_register(name=name, parent=gate_baseline,
                                             files_dir=shifted_generator(tmp_path / name, shift=shift))
        if training_reward:
            GeneratorVersion.objects.filter(pk=version.pk).update(
                training_config={**version.training_config, "reward_model": {"name": training_reward}})
            version.refresh_from_db()
        return version

    return make


@pytest.fixture
def make_reward_model(tmp_path):
    """A trained-looking reward model scoring mean luminance (``weight`` 1) or nothing (``weight`` 0),
    on its own preference dataset unless ``dataset`` is given."""
    from reward.models import PreferenceDataset, RewardModelVersion
    from tests.factories.promotion import luminance_reward_files

    def make(name: str, weight: float = 1.0, dataset=None):
        dataset = dataset or PreferenceDataset.objects.create(name=f"ds-{name}", campaigns=[],
                                                              fingerprint=name.ljust(64, "0")[:64], counts={})
        return RewardModelVersion.objects.create(
            name=name, dataset=dataset, dataset_fingerprint=dataset.fingerprint, dimension="overall",
            status="candidate", files_dir=str(luminance_reward_files(tmp_path / f"rm-{name}", weight=weight)))

    return make
