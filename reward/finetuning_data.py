"""What a generator fine-tuning learns from, as rows and then as tensors.

* Diffusion-DPO: a preference dataset's decided pairs of one dimension whose person is not held out
  by the parent version and whose two headshots were generated from the same source photo (the
  same casual selfie conditions both). The winner and the loser are the stored headshots resized
  to the parent's image size; the condition is the casual input the winner's generation job was
  given (or, for a job that stored none, the same ``casual_input`` the generator is given).
  Train and validation are split by person: the dataset's own split when both sides keep pairs,
  else a seeded share of the people.
* RAFT: the newest accepted photo of each person the parent did not hold out; each person's
  casual selfie is a condition, (casual, clean crop) an anchor, and the reward model scores a
  sample against that person's clean crop, as best-of-n ranking does.

``reward.ml`` and ``generation.ml`` do the numeric work; this module picks rows and turns files
into tensors.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from math import ceil
from typing import Any

import numpy as np

from generation.faces.selectors import accepted_photos, photo_crop
from generation.generator.services import casual_input
from generation.models import GenerationJob, GeneratorVersion, SourcePhoto, Subject
from hfplatform.imaging import stored_rgb
from reward.models import PreferenceDataset, PreferencePair, RewardModelVersion, Split

MIN_DPO_PAIRS = 6  # usable training pairs below this cannot move a LoRA adapter meaningfully
MIN_RAFT_PEOPLE = 2  # people whose selfies condition the samples
MAX_RAFT_PEOPLE = 64  # a round samples `candidates` images per person: this bounds its cost
DPO_VALIDATION_SHARE = 0.2  # share of the training people set aside when the dataset has no test side


# --- Diffusion-DPO --------------------------------------------------------------------------------


@dataclass
class DpoPairRows:
    """The pairs a DPO run trains and validates on, and why the others were left out."""

    train: list[PreferencePair]
    validation: list[PreferencePair]
    validation_people: list[int]
    split: str  # "dataset": its train/test split; "seeded": a seeded share of the training people
    dropped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"train_pairs": len(self.train), "validation_pairs": len(self.validation),
                "validation_people": self.validation_people, "split": self.split, "dropped": self.dropped}


def _people_aside(people: set[int], share: float, seed: int) -> set[int]:
    """A seeded hash order of the people, the first ``share`` of them (at least one, never all)."""
    if len(people) < 2:
        return set()
    ordered = sorted(people, key=lambda s: hashlib.sha256(f"finetune:{seed}:{s}".encode()).hexdigest())
    return set(ordered[: min(len(ordered) - 1, max(1, ceil(share * len(ordered))))])


def dpo_pair_rows(*, dataset: PreferenceDataset, parent: GeneratorVersion, dimension: str,
                  seed: int) -> DpoPairRows:
    """The usable pairs of ``dataset`` for ``dimension``, split by person (see the module doc)."""
    heldout = set(parent.heldout_subjects or [])
    pairs = (dataset.pairs.filter(dimension=dimension).select_related("chosen", "rejected")
             .order_by("id"))
    dropped: Counter[str] = Counter()
    usable: list[PreferencePair] = []
    for pair in pairs:
        if pair.tie:
            dropped["ties"] += 1
        elif pair.subject_id in heldout:
            dropped["heldout_people"] += 1
        elif pair.chosen.source_photo_id != pair.rejected.source_photo_id:
            dropped["different_source_photos"] += 1
        else:
            usable.append(pair)
    train = [p for p in usable if p.split == Split.TRAIN]
    validation = [p for p in usable if p.split != Split.TRAIN]
    if train and validation:
        people = sorted({p.subject_id for p in validation})
        return DpoPairRows(train, validation, people, "dataset", dict(dropped))
    aside = _people_aside({p.subject_id for p in usable}, DPO_VALIDATION_SHARE, seed)
    return DpoPairRows([p for p in usable if p.subject_id not in aside],
                       [p for p in usable if p.subject_id in aside], sorted(aside), "seeded", dict(dropped))


def dpo_pairs(rows: list[PreferencePair], size: int) -> Any:
    """``reward.ml.dpo.DpoPairs`` of ``rows`` at ``size`` pixels (CPU tensors in [-1, 1])."""
    import torch

    from generation.ml.generator import to_tensor
    from reward.ml.dpo import DpoPairs

    jobs = {j.pk: j for j in GenerationJob.objects.filter(
        pk__in={p.chosen.generation_job_id for p in rows}).select_related("source_photo__subject")}
    conditions: dict[int, np.ndarray] = {}

    def condition(job: GenerationJob) -> np.ndarray:
        if job.pk not in conditions:
            conditions[job.pk] = (stored_rgb(job.input_image.name, size) if job.input_image
                                  else casual_input(photo=job.source_photo, size=size))
        return conditions[job.pk]

    winners = np.stack([stored_rgb(p.chosen.image.name, size) for p in rows])
    losers = np.stack([stored_rgb(p.rejected.image.name, size) for p in rows])
    casual = np.stack([condition(jobs[p.chosen.generation_job_id]) for p in rows])
    return DpoPairs(winner=to_tensor(winners), loser=to_tensor(losers), condition=to_tensor(casual),
                    weight=torch.tensor([float(p.weight) for p in rows], dtype=torch.float32))


# --- RAFT -----------------------------------------------------------------------------------------


def raft_photos(*, parent: GeneratorVersion, limit: int = MAX_RAFT_PEOPLE) -> list[SourcePhoto]:
    """The newest accepted photo (with a crop at the parent's size) of each person the parent did
    not hold out, in subject order, at most ``limit``."""
    people = Subject.objects.exclude(pk__in=list(parent.heldout_subjects or []))
    return accepted_photos(subjects=people, size=parent.image_size, limit=limit)


@dataclass
class RaftInputs:
    conditions: Any  # N×3×H×W casual selfies in [-1, 1]
    anchors: tuple[Any, Any]  # (casual, clean crop) of the same people
    score: Callable[[Any, int], list[float]]  # (samples B×3×H×W in [-1, 1], person index) -> rewards


def raft_inputs(*, photos: list[SourcePhoto], size: int, reward_model: RewardModelVersion) -> RaftInputs:
    """Conditions, anchors and the reward scorer of RAFT for these people."""
    from generation.ml.generator import to_tensor, to_uint8
    from reward.ml.model import reward_scores
    from reward.scoring import reward_scorer

    casual = np.stack([casual_input(photo=p, size=size) for p in photos])
    clean = np.stack([photo_crop(p, size) for p in photos])
    model = reward_scorer(reward_model)

    def score(images: Any, person: int) -> list[float]:
        return [float(s) for s in reward_scores(model, to_uint8(images), clean[person])]

    conditions = to_tensor(casual)
    return RaftInputs(conditions=conditions, anchors=(conditions.clone(), to_tensor(clean)), score=score)
