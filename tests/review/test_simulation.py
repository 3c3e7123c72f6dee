"""``manage.py simulate_reviewers``: flagged accounts answering a campaign through the people's services."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from hfplatform.accounts.roles import Role, user_roles
from hfplatform.accounts.selectors import SIMULATED_GROUP, is_simulated
from hfplatform.errors import ApplicationError
from review.ml.objectives import score_images
from review.models import Assignment, BlindJudgement, Comparison, Rating, ReviewItem
from review.selectors import item_image
from review.services import assignment_next, rating_submit
from review.simulation import campaign_simulate, simulated_reviewers_ensure

KINDS = ["rating", "pairwise", "blind"]


@pytest.fixture
def world(review_world):
    return review_world(subjects=3, per_subject=4, portraits=4)


def _simulate(campaign, *extra, reviewers=3, objective="sharpness"):
    call_command("simulate_reviewers", "--campaign", str(campaign.pk), "--objective", objective,
                 "--reviewers", str(reviewers), *extra)


def _answers(campaign):
    """Every answer of a campaign in the item's own terms, keyed by (username, kind, item position)."""
    found = {}
    for model, fields in ((Rating, ("professionalism", "likeness", "appeal")), (Comparison, ("winner",)),
                          (BlindJudgement, ("answer", "confidence"))):
        for row in model.objects.filter(campaign=campaign).select_related("reviewer", "item"):
            key = (row.reviewer.username, row.item.kind, row.item.position)
            found[key] = tuple(getattr(row, f) for f in fields)
    return found


def test_the_command_answers_every_kind_with_flagged_accounts(world, make_campaign, capsys):
    campaign = make_campaign(world, task_kinds=KINDS, overlap=2, gold_rate=0.2, pairs_per_job=3)
    _simulate(campaign, "--noise", "0.4", "--seed", "7")
    out = capsys.readouterr().out
    users = list(get_user_model().objects.filter(username__startswith="sim-sharpness-").order_by("username"))
    assert [u.username for u in users] == ["sim-sharpness-1", "sim-sharpness-2", "sim-sharpness-3"]
    for user in users:
        assert is_simulated(user)
        assert user.groups.filter(name=SIMULATED_GROUP).exists()
        assert user_roles(user) == {Role.REVIEWER}  # "simulated" is a flag, not a role
        assert not user.has_usable_password()
        assert user.username in out
    regular = ReviewItem.objects.filter(campaign=campaign, is_gold=False)
    assert all(item.answers == 2 for item in regular)  # every regular item got its overlap, no more
    for kind, model in (("rating", Rating), ("pairwise", Comparison), ("blind", BlindJudgement)):
        answers = model.objects.filter(campaign=campaign)
        assert answers.filter(item__is_gold=False).count() == 2 * regular.filter(kind=kind).count()
        assert answers.filter(item__is_gold=True).exists(), f"no {kind} gold answered"
        assert set(answers.values_list("reviewer__username", flat=True)) <= {u.username for u in users}
    assert "judging by sharpness (Sharpness: the variance of the Laplacian" in out
    assert "Campaign progress: " in out
    assert "(100.0%)" in out
    # run again: the accounts are reused and there is nothing left to do
    _simulate(campaign)
    assert get_user_model().objects.filter(username__startswith="sim-").count() == 3
    assert "0 answers stored" in capsys.readouterr().out


def test_a_seed_repeats_the_run(world, make_campaign):
    first = make_campaign(world, task_kinds=KINDS, overlap=2, gold_rate=0.2, pairs_per_job=3, seed=5)
    second = make_campaign(world, task_kinds=KINDS, overlap=2, gold_rate=0.2, pairs_per_job=3, seed=5)
    third = make_campaign(world, task_kinds=KINDS, overlap=2, gold_rate=0.2, pairs_per_job=3, seed=5)
    for campaign, seed in ((first, "11"), (second, "11"), (third, "12")):
        _simulate(campaign, "--noise", "1.0", "--bias-spread", "0.5", "--seed", seed)
    assert _answers(first) == _answers(second)
    assert len(_answers(first)) > 60
    assert _answers(first) != _answers(third)


def test_answers_per_reviewer_limits_the_run(world, make_campaign):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=3)
    _simulate(campaign, "--answers-per-reviewer", "4", reviewers=2)
    counts = Rating.objects.filter(campaign=campaign).values_list("reviewer__username", flat=True)
    assert sorted(counts) == ["sim-sharpness-1"] * 4 + ["sim-sharpness-2"] * 4


def test_leases_and_overlap_hold_for_simulated_reviewers(world, make_campaign, make_user):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    person = make_user("reviewer")
    held = assignment_next(campaign=campaign, reviewer=person)  # a person holds one item, lease running
    _simulate(campaign, reviewers=2)
    held.refresh_from_db()
    assert held.reviewer_id == person.pk
    assert held.submitted_at is None
    assert not Rating.objects.filter(item=held.item).exists()
    assert Rating.objects.filter(campaign=campaign).count() == 11  # the other 11 items, once each
    assert all(item.answers <= 1 for item in ReviewItem.objects.filter(campaign=campaign))
    # the lease runs out: the item goes back to the pool and a simulated reviewer takes it
    Assignment.objects.filter(pk=held.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    _simulate(campaign, reviewers=2)
    held.refresh_from_db()
    assert held.reviewer.username.startswith("sim-sharpness-")
    assert Rating.objects.filter(item=held.item).count() == 1
    with pytest.raises(ApplicationError) as late:
        rating_submit(reviewer=person, assignment_id=held.pk, professionalism=3, likeness=3, appeal=3)
    assert late.value.code == "not_your_assignment"


def test_never_an_item_of_a_subject_they_own(review_world, make_campaign):
    owner = simulated_reviewers_ensure(objective="exposure", count=1)[0]
    world = review_world(subjects=2, per_subject=3, portraits=3, owner=owner)
    campaign = make_campaign(world, task_kinds=KINDS, overlap=2, gold_rate=0.2)
    _simulate(campaign, objective="exposure", reviewers=2)
    mine = Assignment.objects.filter(campaign=campaign, reviewer=owner).select_related("item__subject")
    assert mine.exists()  # the real portraits of other people
    assert all(a.item.subject.owner_id != owner.pk for a in mine)
    assert not Rating.objects.filter(campaign=campaign, reviewer=owner).exists()


def test_a_noiseless_reviewer_answers_by_the_objective(world, make_campaign):
    campaign = make_campaign(world, task_kinds=["rating", "pairwise"], overlap=1, pairs_per_job=6)
    team = campaign_simulate(campaign=campaign, objective="warmth", reviewers=1, noise=0.0, bias_spread=0.0)
    assert team[0].rater.noise == 0.0
    ratings = list(Rating.objects.filter(campaign=campaign).select_related("item"))
    truth = score_images([item_image(item=r.item, side="headshot") for r in ratings], "warmth")
    appeal = [r.appeal for r in ratings]
    assert set(appeal) == {1, 2, 3, 4, 5}  # the per-campaign calibration uses every step
    assert all(r.professionalism == r.likeness == r.appeal for r in ratings)  # no noise: one value
    order = np.argsort(truth, kind="stable")
    assert [appeal[i] for i in order] == sorted(appeal)  # higher warmth, never a lower score
    for comparison in Comparison.objects.filter(campaign=campaign).select_related("item"):
        a, b = score_images([item_image(item=comparison.item, side=s) for s in "ab"], "warmth")
        if comparison.winner != "tie":
            assert comparison.winner == ("a" if a > b else "b")


@pytest.mark.parametrize(("argv", "message"), [
    (["--campaign", "987654", "--objective", "sharpness", "--reviewers", "2"], "There is no campaign 987654"),
    (["--objective", "beauty", "--reviewers", "2"], "Unknown objective 'beauty'; choose one of: sharpness"),
    (["--objective", "sharpness", "--reviewers", "0"], "Simulate at least one reviewer"),
    (["--objective", "sharpness", "--reviewers", "2", "--noise", "-1"], "noise is a standard deviation"),
    (["--objective", "sharpness", "--reviewers", "2", "--bias-spread", "-0.1"], "bias spread"),
    (["--objective", "sharpness", "--reviewers", "2", "--answers-per-reviewer", "0"], "At least 1"),
])
def test_bad_requests_are_clear_errors_and_store_nothing(world, make_campaign, argv, message):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    if "--campaign" not in argv:
        argv = ["--campaign", str(campaign.pk), *argv]
    with pytest.raises(CommandError, match=message):
        call_command("simulate_reviewers", *argv)
    assert not Rating.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="sim-").exists()


def test_a_real_account_is_never_taken_over(world, make_campaign, make_user):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    person = make_user("reviewer", username="sim-sharpness-1")
    with pytest.raises(CommandError, match="exists and is not a simulated reviewer"):
        _simulate(campaign, reviewers=1)
    assert not is_simulated(person)
    assert not Rating.objects.exists()


def test_a_campaign_for_photographers_only_is_refused(world, make_campaign):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1, allowed_roles=["photographer"])
    with pytest.raises(CommandError, match="this campaign is for: photographer"):
        _simulate(campaign, reviewers=1)
