"""Review campaigns for a feedback-loop round without people: candidates of the active generator for
people it does not hold out, spread on purpose (a guidance range and stochastic DDIM) so a pair can
be told apart, a pairwise campaign, and simulated reviewers who judge by a named objective
(``review.ml.objectives``). ``opposite`` has the tuning people judged by the objective's opposite
(``not_<objective>``) while the judging people keep the objective: a candidate fine-tuned on that
must be refused by the gate, whose judge learnt the true objective.

Used by ``manage.py simulated_feedback_round`` (the demo's one-line loop) and
``bench/feedback_loop.py``; the loop itself is ``monitoring.feedback_loop``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from generation.faces.selectors import accepted_photos
from generation.generator.services import generation_job_create
from generation.models import GeneratorVersion, Headshot, Subject
from hfplatform.errors import ApplicationError
from hfplatform.jobs.services import job_run
from monitoring.feedback_loop import loop_people_split
from review.ml.objectives import OBJECTIVES
from review.services import campaign_create
from review.simulation import campaign_simulate

#: Two tuning and two judging people at the least (the loop checks that each part has enough pairs).
MIN_ROUND_PEOPLE = 4


@dataclass
class SimulatedCampaigns:
    """What a simulated round answered: the campaigns, the people, and (``opposite``) the split."""

    campaign_ids: list[int]
    people: list[int]
    answers: int
    objectives: dict[int, str]  # campaign id -> the objective its reviewers judged by


def simulated_campaigns(
    *, version: GeneratorVersion, engineer: Any, objective: str, people: int, candidates: int = 6,
    guidance: float = 1.0, guidance_max: float = 3.0, eta: float = 0.5, overlap: int = 3,
    reviewers: int = 6, noise: float = 0.5, bias_spread: float = 0.3, judge_share: float = 0.5,
    opposite: bool = False, seed: int = 0, say: Callable[[str], None] = lambda message: None,
) -> SimulatedCampaigns:
    """Generate, build and answer the campaign(s) (see the module docstring). People who already have
    headshots of ``version`` keep them; others get one job of ``candidates`` each. A 400 when the
    objective is unknown or fewer than ``MIN_ROUND_PEOPLE`` people qualify."""
    if objective not in OBJECTIVES:
        raise ApplicationError(f"Unknown objective {objective!r}; choose one of: {', '.join(OBJECTIVES)}.",
                               code="invalid", extra={"fields": {"objective": ["Unknown objective."]}})
    photos = accepted_photos(subjects=Subject.objects.exclude(pk__in=version.heldout_subjects),
                             size=version.image_size, limit=people)
    if len(photos) < MIN_ROUND_PEOPLE:
        raise ApplicationError(
            f"Only {len(photos)} people with an accepted photo are not held out by {version.name}; a round "
            f"needs at least {MIN_ROUND_PEOPLE}: import more (`manage.py import_face_corpus --limit 240`).",
            code="too_few_people")
    made = 0
    for photo in photos:
        if Headshot.objects.filter(subject=photo.subject, generator_version=version).exists():
            continue
        request = generation_job_create(subject=photo.subject, version=version, created_by=engineer,
                                        seed=photo.subject_id, candidates=candidates, guidance=guidance,
                                        guidance_max=guidance_max, eta=eta, enqueue=False)
        job_run(job_id=request.job_id)
        made += 1
        if made % 8 == 0:
            say(f"generated candidates for {made} people")
    subjects = [photo.subject_id for photo in photos]
    if opposite:
        tuning, judging = loop_people_split(subjects, judge_share=judge_share, seed=seed)
        parts = [(tuning, f"not_{objective}"), (judging, objective)]
    else:
        parts = [(subjects, objective)]
    campaign_ids, judged_by, answers = [], {}, 0
    for members, by in parts:
        heads = list(Headshot.objects.filter(subject_id__in=members, generator_version=version, kept=True)
                     .values_list("pk", flat=True))
        with transaction.atomic():
            campaign = campaign_create(created_by=engineer, name=f"Simulated round: {by}",
                                       task_kinds=["pairwise"], overlap=overlap, gold_rate=0.1,
                                       headshot_ids=heads, pairs_per_job=candidates, seed=seed,
                                       description=f"Answered by {reviewers} simulated reviewers judging by "
                                                   f"{by}.")
        campaign_simulate(campaign=campaign, objective=by, reviewers=reviewers, noise=noise,
                          bias_spread=bias_spread, seed=seed)
        given = campaign.assignments.filter(submitted_at__isnull=False).count()
        answers += given
        say(f"campaign {campaign.pk}: {len(members)} people, {given} answers by {reviewers} simulated "
            f"reviewers judging by {by}")
        campaign_ids.append(campaign.pk)
        judged_by[campaign.pk] = by
    return SimulatedCampaigns(campaign_ids=campaign_ids, people=subjects, answers=answers,
                              objectives=judged_by)
