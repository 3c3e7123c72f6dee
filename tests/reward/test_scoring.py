"""Scoring with a reward model (``reward.scoring``): existing headshots scored by a chosen model over
``POST /api/reward/models/{name}/scores/`` (same numbers as best-of-n, ranks per person, nothing
written), its refusals, and the best-of-n ranker the reward app registers."""

from __future__ import annotations

import numpy as np
import pytest

from generation.faces.selectors import photo_crop
from generation.models import Headshot
from hfplatform.imaging import stored_rgb
from hfplatform.jobs.models import Job
from reward.models import PreferenceDataset, RewardModelVersion
from reward.scoring import MAX_SCORED_HEADSHOTS, candidates_rank, headshots_score

pytestmark = pytest.mark.django_db


@pytest.fixture
def reward_files(tmp_path):
    """An untrained reward network (seeded: distinct, reproducible scores) saved as a trained one is."""
    import torch

    from reward.ml.model import HeadshotRewardConfig, HeadshotRewardModel

    torch.manual_seed(3)
    folder = tmp_path / "reward-model"
    HeadshotRewardModel(HeadshotRewardConfig()).save_pretrained(folder)
    return folder


@pytest.fixture
def make_model(reward_files):
    dataset = PreferenceDataset.objects.create(name="scoring", campaigns=[], fingerprint="f" * 64, counts={})

    def make(name: str = "rm-score", status: str = "candidate") -> RewardModelVersion:
        return RewardModelVersion.objects.create(name=name, dataset=dataset, dataset_fingerprint="f" * 64,
                                                 dimension="overall", status=status,
                                                 files_dir=str(reward_files))

    return make


@pytest.fixture
def world(review_world):
    return review_world(subjects=2, per_subject=3, portraits=0)


def _expected_scores(model_files, headshots: list[Headshot]) -> dict[int, float]:
    """What the network says of each headshot against its own source crop, computed here directly."""
    from reward.ml.model import load_reward_model, reward_scores

    model = load_reward_model(model_files)
    return {h.pk: float(reward_scores(model, stored_rgb(h.image.name, 64)[None],
                                      photo_crop(h.source_photo, 64))[0]) for h in headshots}


def _ranks_by_person(rows: list[dict]) -> dict[int, list[int]]:
    """Each person's headshot ids from the best score down."""
    people: dict[int, list[dict]] = {}
    for row in rows:
        people.setdefault(row["subject"], []).append(row)
    return {subject: [r["headshot"] for r in sorted(group, key=lambda r: -r["score"])]
            for subject, group in people.items()}


@pytest.mark.parametrize("role", ["ml_engineer", "auditor", "admin"])
def test_engineers_and_auditors_score_chosen_headshots(api_client_for, make_model, reward_files, world, role):
    make_model()
    first, second = world.subjects
    chosen = world.by_subject[second.pk][::-1] + world.by_subject[first.pk][:2]
    ids = [h.pk for h in chosen]
    response = api_client_for(role).post("/api/reward/models/rm-score/scores/",
                                         {"headshots": [*ids, ids[0]]}, format="json")  # a repeat: once
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["reward_model"], body["dimension"]) == ("rm-score", "overall")
    rows = body["scores"]
    assert [r["headshot"] for r in rows] == ids  # the order asked for
    expected = _expected_scores(reward_files, chosen)
    assert [r["score"] for r in rows] == pytest.approx([expected[i] for i in ids], abs=1e-5)
    assert len({r["score"] for r in rows}) == len(rows)
    for row, head in zip(rows, chosen, strict=True):
        assert (row["subject"], row["generation_job"]) == (head.subject_id, head.generation_job_id)
    for person, best_first in _ranks_by_person(rows).items():  # ranked within each person
        by_id = {r["headshot"]: r["rank"] for r in rows if r["subject"] == person}
        assert [by_id[i] for i in best_first] == list(range(1, len(best_first) + 1))
    assert not Headshot.objects.exclude(reward_score=None).exists()  # scoring writes nothing
    assert not Job.objects.exclude(kind="generation").exists()


def test_a_generation_job_is_scored_in_candidate_order(api_client_for, make_model, world):
    make_model(status="retired")  # a retired model still scores
    heads = world.by_subject[world.subjects[0].pk]
    response = api_client_for("ml_engineer").post("/api/reward/models/rm-score/scores/",
                                                  {"generation_job": heads[0].generation_job_id},
                                                  format="json")
    assert response.status_code == 200, response.json()
    rows = response.json()["scores"]
    assert [r["headshot"] for r in rows] == [h.pk for h in heads]
    assert sorted(r["rank"] for r in rows) == [1, 2, 3]
    reference = photo_crop(heads[0].source_photo, 64)
    scores, ranks, _ = candidates_rank(version=RewardModelVersion.objects.get(name="rm-score"),
                                       images=[stored_rgb(h.image.name, 64) for h in heads],
                                       reference=reference, keep=len(heads))
    assert [r["score"] for r in rows] == pytest.approx(scores, abs=1e-5)  # best-of-n's own numbers
    assert [r["rank"] for r in rows] == ranks


def test_scores_equal_what_best_of_n_stored_for_a_real_job(make_model, ready_subject, engineer, tmp_path,
                                                           api_client_for):
    from generation.generator.services import generation_job_create, generator_version_register
    from hfplatform.jobs.services import job_run
    from reward.services import reward_model_activate
    from tests.factories.generation import tiny_generator

    reward_model_activate(version=make_model(), activated_by=engineer)
    generator_version_register(name="tiny-scored", files_dir=tiny_generator(tmp_path / "g"), activate=True)
    request = generation_job_create(subject=ready_subject, created_by=engineer, candidates=4, keep=2, seed=5,
                                    steps=2, enqueue=False)
    assert job_run(job_id=request.job_id).status == "succeeded"
    response = api_client_for("auditor").post("/api/reward/models/rm-score/scores/",
                                              {"generation_job": request.pk}, format="json")
    rows = response.json()["scores"]
    stored = list(request.headshots.order_by("candidate_index"))
    assert [r["score"] for r in rows] == pytest.approx([h.reward_score for h in stored], abs=1e-5)
    assert [r["rank"] for r in rows] == [h.reward_rank for h in stored]


@pytest.mark.parametrize("role", ["reviewer", "photographer"])
def test_reviewers_never_see_scores(api_client_for, make_model, world, role):
    make_model()
    response = api_client_for(role).post("/api/reward/models/rm-score/scores/",
                                         {"headshots": [world.headshots[0].pk]}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"]


def test_unknown_model_is_a_404(api_client_for, world):
    response = api_client_for("ml_engineer").post("/api/reward/models/nope/scores/",
                                                  {"headshots": [world.headshots[0].pk]}, format="json")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


@pytest.mark.parametrize("status", ["failed", "training"])
def test_a_model_that_is_not_trained_is_a_409(api_client_for, make_model, world, status):
    make_model(status=status)
    response = api_client_for("ml_engineer").post("/api/reward/models/rm-score/scores/",
                                                  {"headshots": [world.headshots[0].pk]}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "reward_model_not_trained"
    assert status in response.json()["detail"]


def test_unknown_headshots_are_a_400_naming_them(api_client_for, make_model, world):
    make_model()
    known = world.headshots[0].pk
    response = api_client_for("ml_engineer").post("/api/reward/models/rm-score/scores/",
                                                  {"headshots": [known, 999998, 999999]}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_headshots"
    assert "999998" in body["detail"]
    assert "999999" in body["detail"]
    assert str(known) not in body["detail"]
    assert "999999" in body["fields"]["headshots"][0]


def test_more_than_the_limit_is_a_400(api_client_for, make_model, world):
    version = make_model()
    ids = list(range(1, MAX_SCORED_HEADSHOTS + 2))
    response = api_client_for("ml_engineer").post("/api/reward/models/rm-score/scores/", {"headshots": ids},
                                                  format="json")
    assert response.status_code == 400
    assert "headshots" in response.json()["fields"]
    from hfplatform.errors import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        headshots_score(version=version, headshot_ids=ids)
    assert refused.value.code == "too_many_headshots"


def test_headshots_of_a_job_that_did_not_succeed_are_a_400(api_client_for, make_model, world):
    make_model()
    head = world.headshots[0]
    Job.objects.filter(pk=head.generation_job.job_id).update(status="running")
    client = api_client_for("ml_engineer")
    by_id = client.post("/api/reward/models/rm-score/scores/", {"headshots": [head.pk]}, format="json")
    assert by_id.status_code == 400
    assert by_id.json()["code"] == "headshots_not_ready"
    assert str(head.pk) in by_id.json()["detail"]
    by_job = client.post("/api/reward/models/rm-score/scores/", {"generation_job": head.generation_job_id},
                         format="json")
    assert by_job.status_code == 400
    assert by_job.json()["code"] == "headshots_not_ready"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "non_field_errors"),
    ({"headshots": [1], "generation_job": 1}, "non_field_errors"),
    ({"headshots": []}, "headshots"),
    ({"headshots": ["x"]}, "headshots"),
    ({"generation_job": 999999}, "generation_job"),
])
def test_bad_requests_are_a_400_with_the_field(api_client_for, make_model, world, body, field):
    make_model()
    response = api_client_for("ml_engineer").post("/api/reward/models/rm-score/scores/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_missing_model_files_are_a_4xx_with_a_reason(api_client_for, world):
    dataset = PreferenceDataset.objects.create(name="d", campaigns=[], fingerprint="f" * 64, counts={})
    RewardModelVersion.objects.create(name="rm-gone", dataset=dataset, dataset_fingerprint="f" * 64,
                                      dimension="overall", status="candidate", files_dir="/nonexistent")
    response = api_client_for("ml_engineer").post("/api/reward/models/rm-gone/scores/",
                                                  {"headshots": [world.headshots[0].pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "reward_files_missing"


def test_the_ranker_scores_candidates_with_the_named_model(make_model):
    from generation.generator.ranking import candidate_ranker
    from hfplatform.errors import ApplicationError
    from reward.scoring import RewardModelRanker
    from reward.services import reward_model_activate

    ranker = candidate_ranker()
    assert isinstance(ranker, RewardModelRanker)
    with pytest.raises(ApplicationError) as refused:
        ranker.active()
    assert refused.value.code == "no_active_reward_model"
    reward_model_activate(version=make_model())
    assert ranker.active() == "rm-score"
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (64, 64, 3), dtype=np.uint8) for _ in range(3)]
    ranking = ranker.rank(name="rm-score", images=images, reference=images[0], keep=2)
    assert sorted(ranking.ranks) == [1, 2, 3]
    assert ranking.kept == sorted(range(3), key=lambda i: -ranking.scores[i])[:2]
    with pytest.raises(ApplicationError) as gone:
        ranker.rank(name="rm-gone", images=images, reference=images[0], keep=1)
    assert gone.value.code == "unknown_reward_model"
