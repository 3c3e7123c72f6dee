"""The feedback loop without people: simulated reviewers answer a campaign through the same services as
people, by an objective the test knows; the platform turns their answers into a dataset and trains a
reward model at its defaults. On held-out people it must order headshots as the noiseless objective
does, and as best-of-8 it must pick a better-than-median candidate for unseen people."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from hfplatform.demo import portrait_sketch
from hfplatform.jobs.services import job_run
from review.ml.objectives import sharpness
from review.simulation import campaign_simulate
from reward.examples import preference_examples
from reward.ml.evaluate import evaluate_reward
from reward.ml.model import load_reward_model, reward_scores
from reward.services import preference_dataset_create, reward_training_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
SIZE = 64


def candidates(seed: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """A person's crop and ``count`` candidates of it, each blurred by its own radius (0 to 2.5 px):
    enough spread in sharpness for reviewers to tell them apart."""
    crop = portrait_sketch(seed, 256).resize((SIZE, SIZE))
    return np.asarray(crop), [np.asarray(crop.filter(ImageFilter.GaussianBlur(float(r))))
                              for r in rng.uniform(0.0, 2.5, count)]


def test_simulated_reviewers_teach_the_reward_model_their_objective(
        review_world, make_campaign, engineer_user, settings, tmp_path):
    settings.REWARD_ROOT = tmp_path / "reward"
    rng = np.random.default_rng(0)
    world = review_world(subjects=16, per_subject=6, portraits=0)
    for subject in world.subjects:
        photo = world.by_subject[subject.pk][0].source_photo
        crop = np.asarray(Image.open(settings.MEDIA_ROOT / photo.aligned_crops[str(SIZE)]).convert("RGB"))
        for head in world.by_subject[subject.pk]:
            radius = float(rng.uniform(0.0, 2.5))
            blurred = Image.fromarray(crop).filter(ImageFilter.GaussianBlur(radius))
            blurred.save(settings.MEDIA_ROOT / head.image.name)
    campaign = make_campaign(world, task_kinds=["pairwise"], overlap=3, pairs_per_job=10)
    panel = campaign_simulate(campaign=campaign, objective="sharpness", reviewers=6, noise=0.5, seed=0)
    assert len(panel) == 6
    dataset = preference_dataset_create(name="sim-sharpness", campaign_ids=[campaign.pk],
                                        created_by=engineer_user)
    version = reward_training_start(dataset=dataset, dimension="overall", started_by=engineer_user,
                                    enqueue=False, max_steps=300)  # else the defaults: a cap, for time
    assert job_run(job_id=version.training_job_id).status == "succeeded"
    version.refresh_from_db()
    model = load_reward_model(version.files_dir)

    test_pairs = list(dataset.pairs.filter(split="test", dimension="overall", tie=False))
    report = evaluate_reward(model, preference_examples(test_pairs, SIZE), objective=sharpness)
    assert report["objective"]["value"] >= 0.8, report["objective"]
    assert report["consensus"]["value"] >= report["accuracy"]["value"] - 0.05  # majorities are cleaner

    picked_better = 0
    for person in range(20):  # people the dataset never saw
        reference, shots = candidates(9000 + person, 8, rng)
        truth = np.array([sharpness(shot) for shot in shots])
        pick = int(np.argmax(reward_scores(model, np.stack(shots), reference)))
        picked_better += truth[pick] > np.median(truth)
    assert picked_better >= 14, picked_better  # at least 70 % of unseen people
