"""Best-of-n through the ranking interface: generation knows only ``CandidateRanker``; the reward app
registers its implementation at start-up."""

from __future__ import annotations

import numpy as np
import pytest

from generation.generator import ranking
from generation.generator.ranking import Ranking, candidate_ranker
from generation.generator.services import generation_job_create, generator_version_register
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job
from hfplatform.jobs.services import job_run
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


class BrightnessRanker:
    """A real ranking model of its own kind: brighter candidates rank first."""

    def active(self) -> str:
        return "brightness"

    def rank(self, *, name: str, images: list[np.ndarray], reference: np.ndarray, keep: int) -> Ranking:
        assert name == "brightness"
        assert reference.shape == images[0].shape  # the person's crop at the candidates' size
        scores = [float(image.mean()) for image in images]
        order = sorted(range(len(images)), key=lambda i: -scores[i])
        ranks = [order.index(i) + 1 for i in range(len(images))]
        return Ranking(scores=scores, ranks=ranks, kept=order[:keep])


@pytest.fixture
def generator(tmp_path):
    return generator_version_register(name="tiny-ranked", files_dir=tiny_generator(tmp_path / "g"),
                                      activate=True)


def test_the_reward_app_registers_its_ranker_at_start_up():
    from reward.scoring import RewardModelRanker

    assert isinstance(candidate_ranker(), RewardModelRanker)


def test_keep_without_a_ranking_model_is_refused_and_nothing_starts(monkeypatch, generator, ready_subject,
                                                                    engineer):
    monkeypatch.setattr(ranking, "_ranker", None)
    with pytest.raises(ApplicationError) as refused:
        generation_job_create(subject=ready_subject, created_by=engineer, candidates=3, keep=1, enqueue=False)
    assert refused.value.code == "no_candidate_ranker"
    assert not Job.objects.filter(kind="generation").exists()


def test_a_registered_ranker_keeps_its_top_k_and_is_named_on_the_job(monkeypatch, generator, ready_subject,
                                                                     engineer, api_client_for):
    monkeypatch.setattr(ranking, "_ranker", BrightnessRanker())
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=4, keep=2, seed=3,
                                    steps=2, enqueue=False)
    assert request.ranked_by == "brightness"
    assert job_run(job_id=request.job_id).status == "succeeded"
    heads = list(request.headshots.order_by("candidate_index"))
    from PIL import Image

    brightness = [float(np.asarray(Image.open(h.image.path)).mean()) for h in heads]
    best_two = set(sorted(range(4), key=lambda i: -brightness[i])[:2])
    assert {h.candidate_index for h in heads if h.kept} == best_two
    assert sorted(h.reward_rank for h in heads) == [1, 2, 3, 4]
    assert [h.reward_score for h in heads] == pytest.approx(brightness, abs=1e-6)
    shown = api_client_for("ml_engineer").get(f"/api/generation/jobs/{request.pk}/").json()
    assert shown["reward_model"] == "brightness"


def test_a_job_without_keep_is_not_ranked(generator, ready_subject, engineer, api_client_for):
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=2, steps=1,
                                    enqueue=False)
    assert request.ranked_by is None
    assert job_run(job_id=request.job_id).status == "succeeded"
    assert all(h.kept and h.reward_rank is None for h in request.headshots.all())
    shown = api_client_for("ml_engineer").get(f"/api/generation/jobs/{request.pk}/").json()
    assert shown["reward_model"] is None
