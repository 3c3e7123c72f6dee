"""A pairwise campaign "candidate generator or the active one?" on held-out people, for people to judge.

For each of the people the promotion gate would compare the two versions on (held out by both), the
job generates the same candidates (same seed, same studio stages) with the candidate and with the
active version as ordinary generation jobs, and opens a pairwise campaign whose every item puts the
two makings of one candidate side by side (which side is random per reviewer; reviewers are not told
which is which). Its answers can then judge the gate (``monitoring.human_pairs``).

A job (``version_comparison``) started from the generator versions page or the API; resumable: the
finished pairs of generation jobs are kept in the job's params.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from generation.generator.studio import stages_request
from generation.models import GeneratorVersion, Subject
from hfplatform.jobs.models import Job
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create
from monitoring.human_pairs import SELECTION_KEY
from monitoring.options import DEFAULT_COMPARISON_PEOPLE
from monitoring.promotion import active_baseline, gate_people
from review.services import campaign_create
from review.stage_comparison import campaign_links, comparison_size_check, generate_now, same_seed_pairs

KIND = "version_comparison"
PEOPLE = range(4, 101)


def version_comparison_start(*, started_by: Any, candidate: GeneratorVersion,
                             people: int = DEFAULT_COMPARISON_PEOPLE, candidates: int = 2, seed: int = 0,
                             stages: list[Any] | None = None, enqueue: bool = True) -> Job:
    """Check the request (a 400 or 409 before anything is stored) and queue the job."""
    comparison_size_check(people=people, candidates=candidates, people_range=PEOPLE)
    baseline = active_baseline(candidate)
    stages = stages_request(stages)
    subjects = gate_people(candidate=candidate, baseline=baseline, people=people)
    return job_create(kind=KIND, started_by=started_by, enqueue=enqueue,
                      title=f"Campaign: {candidate.name} vs the active {baseline.name}",
                      params={"candidate": candidate.name, "baseline": baseline.name, "subjects": subjects,
                              "candidates": candidates, "seed": seed, "stages": stages, "done": []})


@job_kind(KIND, resumable=True, title="Version comparison campaign", links=campaign_links)
def version_comparison_run(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    p = job.params
    candidate = GeneratorVersion.objects.get(name=p["candidate"])
    baseline = GeneratorVersion.objects.get(name=p["baseline"])
    done: list[list[int]] = list(p.get("done", []))
    subjects = {s.pk: s for s in Subject.objects.filter(pk__in=p["subjects"])}
    for i, subject_id in enumerate(p["subjects"][len(done):], start=len(done)):
        seed = p["seed"] + subject_id * 1000
        a = generate_now(job, subjects[subject_id], candidate, p["stages"], p["candidates"], seed)
        b = generate_now(job, subjects[subject_id], baseline, p["stages"], p["candidates"], seed)
        done.append([a.pk, b.pk])
        Job.objects.filter(pk=job.pk).update(params={**p, "done": done})
        progress.step(i + 1, len(p["subjects"]) + 1,
                      f"generated with both versions for {i + 1} of {len(p['subjects'])} people")
    pairs = same_seed_pairs(done)
    stages = ", ".join(stage["name"] for stage in p["stages"]) or "none"
    with transaction.atomic():
        campaign = campaign_create(
            created_by=job.started_by, name=f"{candidate.name} vs {baseline.name}", task_kinds=["pairwise"],
            pairs=pairs, seed=p["seed"],
            description=f"Each pair shows the same candidate (same person, same seed, studio stages: "
                        f"{stages}) made by two generator versions, on people neither was trained on. Which "
                        "headshot would you rather deliver?")
        campaign.selection = {**campaign.selection, SELECTION_KEY: {
            "candidate": candidate.name, "baseline": baseline.name, "subjects": p["subjects"],
            "candidates": p["candidates"], "seed": p["seed"], "stages": p["stages"]}}
        campaign.save(update_fields=["selection"])
    progress.log(f"campaign {campaign.pk}: {len(pairs)} pairs of {len(done)} people")
    return {"campaign": campaign.pk, "pairs": len(pairs), "people": len(done)}
