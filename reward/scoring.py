"""Scores headshots with a reward model: the best-of-n ranker of generation jobs and the scores endpoint.

A reward model scores a headshot against its subject's source crop (``photo_crop`` of the photo the
headshot was generated from, at the generator's image size), as in training
(``reward.services._examples``) and in best-of-n ranking. Scoring writes nothing.

* ``candidates_rank``: one generation job's candidates (arrays in memory), with the rank and the
  kept indices of best-of-n; ``RewardModelRanker`` is the ranker the reward app registers with
  ``generation.generator.ranking`` (``reward/apps.py``).
* ``headshots_score``: stored headshots (given by id or by generation job) with a chosen model,
  each with its rank among the scored headshots of the same person
  (``POST /api/reward/models/{name}/scores/``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from generation.faces.selectors import photo_crop
from generation.generator.ranking import Ranking
from generation.models import GenerationJob, Headshot
from hfplatform.errors import ApplicationError, Conflict
from hfplatform.imaging import stored_rgb
from hfplatform.jobs.models import JobStatus
from reward.models import RewardModelVersion, RewardStatus
from reward.options import MAX_SCORED_HEADSHOTS
from reward.selectors import reward_model_active

#: Most headshots one scores request may name (a generation job has at most 16 candidates).
#: Models that have files to score with: trained, whether or not they are active.
SCORING_STATUSES = (RewardStatus.CANDIDATE, RewardStatus.ACTIVE, RewardStatus.RETIRED)

_loaded: dict[str, Any] = {}


def reward_scorer(version: RewardModelVersion) -> Any:
    """The version's model, loaded once per process."""
    from reward.ml.model import load_reward_model

    if version.files_dir not in _loaded:
        path = Path(version.files_dir)
        if not path.exists():
            raise ApplicationError(f"The files of reward model {version.name} are missing ({path}).",
                                   code="reward_files_missing")
        _loaded[version.files_dir] = load_reward_model(path)
    return _loaded[version.files_dir]


# --- Best-of-n ------------------------------------------------------------------------------------


def candidates_rank(*, version: RewardModelVersion, images: list[np.ndarray], reference: np.ndarray,
                    keep: int) -> tuple[list[float], list[int], list[int]]:
    """Best-of-n: (score, rank and kept-index list) of each candidate by the reward model."""
    from reward.ml.model import reward_scores
    from reward.ml.rerank import rerank

    scores = reward_scores(reward_scorer(version), np.stack(images), reference)
    ranks, kept = rerank(list(map(float, scores)), keep)
    return [float(s) for s in scores], ranks, kept


class RewardModelRanker:
    """Best-of-n for generation jobs (``generation.generator.ranking``): the active reward model ranks
    new jobs' candidates; a job records the model's name and is ranked by that model."""

    def active(self) -> str:
        version = reward_model_active()
        if version is None:
            raise ApplicationError("Keeping the top k needs an active reward model; train and activate one "
                                   "first.", code="no_active_reward_model")
        return version.name

    def rank(self, *, name: str, images: list[np.ndarray], reference: np.ndarray, keep: int) -> Ranking:
        version = RewardModelVersion.objects.filter(name=name).first()
        if version is None:
            raise ApplicationError(f"The reward model {name} that should rank these candidates is gone.",
                                   code="unknown_reward_model")
        return Ranking(*candidates_rank(version=version, images=images, reference=reference, keep=keep))


# --- Stored headshots -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadshotScore:
    """One headshot's reward and its place among the scored headshots of the same person (1 = best)."""

    headshot: int
    subject: int
    generation_job: int
    score: float
    rank: int


def _invalid(message: str, *, code: str, field: str, problems: list[str]) -> ApplicationError:
    return ApplicationError(message, code=code, extra={"fields": {field: problems}})


def _headshots_by_id(ids: list[int]) -> list[Headshot]:
    wanted = list(dict.fromkeys(ids))  # request order, each once
    if not wanted:
        raise _invalid("Name one or more headshots.", code="invalid", field="headshots",
                       problems=["Name one or more headshots."])
    if len(wanted) > MAX_SCORED_HEADSHOTS:
        raise _invalid(f"At most {MAX_SCORED_HEADSHOTS} headshots per request; {len(wanted)} were named.",
                       code="too_many_headshots", field="headshots",
                       problems=[f"At most {MAX_SCORED_HEADSHOTS}."])
    found = {h.pk: h for h in Headshot.objects.filter(pk__in=wanted).select_related(
        "source_photo", "generator_version", "generation_job__job")}
    unknown = [pk for pk in wanted if pk not in found]
    if unknown:
        raise _invalid(f"Unknown headshot(s): {unknown}.", code="unknown_headshots", field="headshots",
                       problems=[f"Unknown: {unknown}."])
    unfinished = [pk for pk in wanted if found[pk].generation_job.job.status != JobStatus.SUCCEEDED]
    if unfinished:
        raise _invalid(f"Headshot(s) {unfinished} belong to a generation job that did not succeed.",
                       code="headshots_not_ready", field="headshots",
                       problems=[f"Their generation job did not succeed: {unfinished}."])
    return [found[pk] for pk in wanted]


def _headshots_of_job(generation_job_id: int) -> list[Headshot]:
    found = GenerationJob.objects.select_related("job").filter(pk=generation_job_id).first()
    if found is None:
        raise _invalid(f"There is no generation job {generation_job_id}.", code="unknown_generation_job",
                       field="generation_job", problems=["Unknown generation job."])
    if found.job.status != JobStatus.SUCCEEDED:
        raise _invalid(f"Generation job {generation_job_id} is {found.job.status}: only the headshots of a "
                       "job that succeeded can be scored.", code="headshots_not_ready",
                       field="generation_job", problems=["Its job did not succeed."])
    return list(found.headshots.select_related("source_photo", "generator_version")
                .order_by("candidate_index"))


def headshots_score(*, version: RewardModelVersion, headshot_ids: list[int] | None = None,
                    generation_job_id: int | None = None) -> list[HeadshotScore]:
    """Score stored headshots with ``version`` without generating or storing anything: the headshots
    named by id (in that order) or every candidate of one generation job (in candidate order). Each
    is scored against the source crop it was generated from and ranked among the scored headshots of
    its person (equal scores keep the order given). Only trained models score (candidate, active or
    retired: a 409 otherwise); unknown headshots, more than ``MAX_SCORED_HEADSHOTS``, or headshots
    of a job that did not succeed are a 400 that names them."""
    from reward.ml.model import reward_scores
    from reward.ml.rerank import rerank

    if version.status not in SCORING_STATUSES:
        raise Conflict(f"Reward model {version.name} is {version.status}: only a trained model (candidate, "
                       "active or retired) can score.", code="reward_model_not_trained")
    if (headshot_ids is None) == (generation_job_id is None):
        raise ApplicationError("Give either headshots (a list of ids) or one generation_job.",
                               code="invalid", extra={"fields": {"non_field_errors": [
                                   "Give either headshots or generation_job."]}})
    headshots = (_headshots_by_id(headshot_ids) if headshot_ids is not None
                 else _headshots_of_job(generation_job_id))
    model = reward_scorer(version)
    scores: dict[int, float] = {}
    by_reference: dict[tuple[int, int], list[Headshot]] = defaultdict(list)
    for headshot in headshots:
        by_reference[(headshot.source_photo_id, headshot.generator_version.image_size)].append(headshot)
    for (_, size), group in by_reference.items():
        images = np.stack([stored_rgb(h.image.name, size) for h in group])
        values = reward_scores(model, images, photo_crop(group[0].source_photo, size))
        scores.update({h.pk: float(v) for h, v in zip(group, values, strict=True)})
    by_person: dict[int, list[Headshot]] = defaultdict(list)
    for headshot in headshots:
        by_person[headshot.subject_id].append(headshot)
    ranks: dict[int, int] = {}
    for group in by_person.values():
        places, _ = rerank([scores[h.pk] for h in group], keep=len(group))
        ranks.update({h.pk: place for h, place in zip(group, places, strict=True)})
    return [HeadshotScore(headshot=h.pk, subject=h.subject_id, generation_job=h.generation_job_id,
                          score=scores[h.pk], rank=ranks[h.pk]) for h in headshots]
