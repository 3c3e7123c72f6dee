"""A pairwise campaign "with the stage or without it": do people prefer the headshots a studio stage
made? For each of a version's held-out people, two generation jobs from the same seeds, one with the
default stage set (plus the stage when it is not among them) and one with that set minus the stage,
and a campaign whose every item pairs the same candidate with and without the stage. The campaign's
selection records which side is which, so its page and ``GET /api/review/campaigns/{id}/verdict/``
read out people's verdict (``review.comparison_verdict``).

It runs as a job (``stage_comparison``) started from the generator versions page, the API or a
shell: generation takes minutes. It is resumable: the finished pairs of jobs are kept in the job's
params, so a restarted worker goes on where it stopped.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse

from generation.generator.selectors import heldout_photos
from generation.generator.services import generation_job_create
from generation.generator.studio import default_stages
from generation.ml.studio.pipeline import STAGE_ORDER
from generation.models import GenerationJob, GeneratorVersion
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.progress import JobProgress
from hfplatform.jobs.registry import job_kind
from hfplatform.jobs.services import job_create, job_run
from review.comparison_verdict import STAGE_COMPARISON
from review.services import campaign_create

KIND = "stage_comparison"
PEOPLE = range(2, 101)
CANDIDATES = range(1, 5)


def stage_sets(stage: str) -> tuple[list[str], list[str]]:
    """(with, without): the default stages with ``stage`` added, and the same without it."""
    chosen = set(default_stages()) | {stage}
    with_stage = [name for name in STAGE_ORDER if name in chosen]
    return with_stage, [name for name in with_stage if name != stage]


def comparison_size_check(*, people: int, candidates: int, people_range: range = PEOPLE,
                          errors: dict[str, list[str]] | None = None) -> None:
    """A 400 naming every field out of range: ``people`` in ``people_range``, ``candidates`` per
    person in ``CANDIDATES``, and any ``errors`` found already."""
    errors = dict(errors or {})
    if people not in people_range:
        errors["people"] = [f"Between {people_range.start} and {people_range.stop - 1} people."]
    if candidates not in CANDIDATES:
        errors["candidates"] = [f"Between {CANDIDATES.start} and {CANDIDATES.stop - 1} candidates."]
    if errors:
        raise ApplicationError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), code="invalid",
                               extra={"fields": errors})


def stage_comparison_start(*, started_by: Any, version: GeneratorVersion, stage: str, people: int = 12,
                           candidates: int = 2, seed: int = 0, enqueue: bool = True) -> Job:
    """Check the request and queue the job; a 400 says what is wrong before anything is stored."""
    errors = {} if stage in STAGE_ORDER else {"stage": [f"Choose one of: {', '.join(STAGE_ORDER)}."]}
    comparison_size_check(people=people, candidates=candidates, errors=errors)
    available = len(heldout_photos(version=version, limit=people))
    if available < PEOPLE.start:
        raise ApplicationError(f"{version.name} has {available} held-out people with an accepted photo; a "
                               f"comparison needs at least {PEOPLE.start}.", code="too_few_people")
    return job_create(kind=KIND, started_by=started_by, enqueue=enqueue,
                      title=f"Campaign: {version.name} with vs without {stage}",
                      params={"version": version.name, "stage": stage, "people": people,
                              "candidates": candidates, "seed": seed, "done": []})


def generate_now(job: Job, subject: Any, version: GeneratorVersion, stages: list[str] | None,
                 candidates: int, seed: int) -> GenerationJob:
    """Generate ``candidates`` headshots of ``subject`` with ``version`` inside ``job`` (its own
    generation job, run here and started by the same person); ``stages`` None: the default set."""
    request = generation_job_create(subject=subject, version=version, created_by=job.started_by,
                                    seed=seed, candidates=candidates, stages=stages, enqueue=False)
    done = job_run(job_id=request.job_id)
    if done is None or done.status != JobStatus.SUCCEEDED:
        raise ApplicationError(f"Generating for subject {subject.pk} failed: "
                               f"{getattr(done, 'error', '') or 'not run'}", code="generation_failed")
    return request


def same_seed_pairs(jobs: list[list[int]]) -> list[list[int]]:
    """For each [generation job a, generation job b] (same person, same seed): [a's headshot, b's
    headshot] for every candidate index, so each pair shows one candidate made two ways."""
    pairs = []
    for a_id, b_id in jobs:
        by_index = {h.candidate_index: h.pk for h in GenerationJob.objects.get(pk=b_id).headshots.all()}
        pairs += [[h.pk, by_index[h.candidate_index]]
                  for h in GenerationJob.objects.get(pk=a_id).headshots.all()]
    return pairs


def campaign_links(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The job page's link to the campaign a comparison job opened (its result's ``campaign``)."""
    campaign = result.get("campaign")
    return [(f"Review campaign #{campaign}", reverse("review:campaign", args=[campaign]))] if campaign else []


@job_kind(KIND, resumable=True, title="Studio stage comparison campaign", links=campaign_links)
def stage_comparison_run(*, job: Job, progress: JobProgress) -> dict[str, Any]:
    p = job.params
    version = GeneratorVersion.objects.get(name=p["version"])
    with_stage, without = stage_sets(p["stage"])
    photos = heldout_photos(version=version, limit=p["people"])
    done: list[list[int]] = list(p.get("done", []))
    for i, photo in enumerate(photos[len(done):], start=len(done)):
        seed = p["seed"] + photo.subject_id * 1000
        a = generate_now(job, photo.subject, version, with_stage, p["candidates"], seed)
        b = generate_now(job, photo.subject, version, without, p["candidates"], seed)
        done.append([a.pk, b.pk])
        Job.objects.filter(pk=job.pk).update(params={**p, "done": done})
        progress.step(i + 1, len(photos) + 1, f"generated with and without {p['stage']} for {i + 1} of "
                                              f"{len(photos)} people")
    pairs = same_seed_pairs(done)
    with transaction.atomic():
        campaign = campaign_create(
            created_by=job.started_by, name=f"{version.name}: with vs without {p['stage']}",
            task_kinds=["pairwise"], pairs=pairs, seed=p["seed"],
            description=f"Each pair shows the same candidate (same seed) of {version.name} with the studio "
                        f"stages {', '.join(with_stage)} and without {p['stage']}.")
        campaign.selection = {**campaign.selection, STAGE_COMPARISON: {
            "version": version.name, "stage": p["stage"], "with": with_stage, "without": without,
            "with_jobs": [a for a, _ in done], "subjects": [photo.subject_id for photo in photos],
            "candidates": p["candidates"], "seed": p["seed"]}}
        campaign.save(update_fields=["selection"])
    progress.log(f"campaign {campaign.pk}: {len(pairs)} pairs of {len(done)} people")
    return {"campaign": campaign.pk, "pairs": len(pairs), "people": len(done), "with": with_stage,
            "without": without}
