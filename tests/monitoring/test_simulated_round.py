"""Campaigns of a loop round without people: spread candidates for people the generator does not hold
out, a pairwise campaign answered by simulated reviewers, and with ``opposite`` the tuning people judged
by the objective's opposite on disjoint people."""

from __future__ import annotations

import pytest

from hfplatform.errors import ApplicationError

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_opposite_round_answers_two_campaigns_on_disjoint_people(version, engineer):
    from generation.models import Headshot
    from monitoring.feedback_loop import loop_people_split
    from monitoring.simulated_round import simulated_campaigns
    from review.models import Campaign, Comparison

    round_ = simulated_campaigns(version=version, engineer=engineer, objective="sharpness", people=4,
                                 candidates=3, reviewers=3, opposite=True, seed=1)
    assert len(round_.people) == 4
    assert not set(round_.people) & set(version.heldout_subjects)
    tuning, judging = loop_people_split(round_.people, judge_share=0.5, seed=1)
    first, second = (Campaign.objects.get(pk=pk) for pk in round_.campaign_ids)
    assert round_.objectives == {first.pk: "not_sharpness", second.pk: "sharpness"}
    shown = {c.pk: set(Comparison.objects.filter(assignment__campaign=c).values_list("left__subject_id",
                                                                                      flat=True))
             for c in (first, second)}
    assert shown[first.pk] <= set(tuning)
    assert shown[second.pk] <= set(judging)
    assert shown[first.pk]
    assert shown[second.pk]
    assert round_.answers == sum(c.assignments.filter(submitted_at__isnull=False).count()
                                 for c in (first, second))
    reviewers = {a.reviewer for c in (first, second)
                 for a in c.assignments.filter(submitted_at__isnull=False)}
    assert reviewers
    assert all(r.groups.filter(name="simulated").exists() for r in reviewers)
    # Each person got one job of spread candidates: guidance from 1 to 3, stochastic DDIM.
    heads = Headshot.objects.filter(subject_id__in=round_.people, generator_version=version)
    assert heads.count() == 4 * 3
    assert sorted({h.guidance for h in heads}) == [1.0, 2.0, 3.0]
    assert {h.eta for h in heads} == {0.5}
    # A second round reuses the headshots it finds.
    simulated_campaigns(version=version, engineer=engineer, objective="sharpness", people=4, candidates=3,
                        reviewers=2, seed=1)
    assert Headshot.objects.filter(subject_id__in=round_.people, generator_version=version).count() == 12


def test_unknown_objective_or_too_few_people_changes_nothing(version, engineer):
    from generation.models import Headshot
    from monitoring.simulated_round import simulated_campaigns
    from review.models import Campaign

    with pytest.raises(ApplicationError, match="Unknown objective 'beauty'"):
        simulated_campaigns(version=version, engineer=engineer, objective="beauty", people=4)
    with pytest.raises(ApplicationError, match="needs at least 4"):
        simulated_campaigns(version=version, engineer=engineer, objective="sharpness", people=3)
    assert not Campaign.objects.exists()
    assert not Headshot.objects.exists()
