"""Simulated reviewers count like people unless a report is asked to leave them out."""

from __future__ import annotations

import pytest
from django.urls import reverse

from review.models import BlindJudgement, Rating
from review.quality import (
    blind_detection,
    campaign_agreement,
    rating_means_by_role,
    reviewer_pseudonym,
    reviewer_quality,
    reviewer_reliability,
)
from review.simulation import campaign_simulate
from tests.factories.review import answer_all, honest


@pytest.fixture
def shared(review_world, make_campaign, make_user):
    """A campaign answered in full by two people and two simulated reviewers (overlap 4)."""
    world = review_world(subjects=2, per_subject=3, portraits=2)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise", "blind"], overlap=4, gold_rate=0.2)
    people = [make_user("reviewer"), make_user("photographer")]
    for person in people:
        answer_all(campaign, person, honest)
    team = campaign_simulate(campaign=campaign, objective="exposure", reviewers=2, noise=0.5, seed=2)
    return campaign, people, [member.user for member in team]


def test_reports_include_and_label_simulated_reviewers_by_default(shared):
    campaign, people, sims = shared
    rows = {row["reviewer"]: row for row in reviewer_quality(campaign)}
    assert set(rows) == {reviewer_pseudonym(u.pk) for u in people + sims}
    assert {rows[reviewer_pseudonym(u.pk)]["simulated"] for u in sims} == {True}
    assert {rows[reviewer_pseudonym(u.pk)]["simulated"] for u in people} == {False}
    dims = {d["name"]: d for d in campaign_agreement(campaign)["dimensions"]}
    assert dims["appeal"]["n_reviewers"] == 4
    assert campaign_agreement(campaign)["simulated"] == "included"
    assert set(reviewer_reliability(campaign, kind="rating")) == {u.pk for u in people + sims}


def test_exclude_simulated_leaves_them_out_of_every_figure(shared):
    campaign, people, _ = shared
    rows = reviewer_quality(campaign, exclude_simulated=True)
    assert {row["reviewer"] for row in rows} == {reviewer_pseudonym(u.pk) for u in people}
    agreement = campaign_agreement(campaign, exclude_simulated=True)
    assert agreement["simulated"] == "excluded"
    assert {d["n_reviewers"] for d in agreement["dimensions"]} == {2}
    assert all(p["n_common"] > 0 for d in agreement["dimensions"] for p in d["pairs"])
    assert {len(d["pairs"]) for d in agreement["dimensions"]} == {1}  # the two people only
    human_blind = BlindJudgement.objects.filter(campaign=campaign, reviewer__in=people, item__is_gold=False)
    assert blind_detection(campaign, exclude_simulated=True)["overall"]["n"] == human_blind.count()
    assert blind_detection(campaign)["overall"]["n"] == 2 * human_blind.count()
    human_ratings = Rating.objects.filter(campaign=campaign, reviewer__in=people, item__is_gold=False)
    means = rating_means_by_role(campaign, exclude_simulated=True)
    assert means["weighted"]["n"] == human_ratings.count()
    pairwise = reviewer_reliability(campaign, kind="pairwise", exclude_simulated=True)
    assert set(pairwise) == {u.pk for u in people}
    with pytest.raises(ValueError, match="unknown task kind"):
        reviewer_reliability(campaign, kind="essay")


def test_apis_take_simulated_exclude(shared, api_client_for):
    campaign, people, sims = shared
    client = api_client_for("auditor")
    every = client.get(f"/api/review/campaigns/{campaign.pk}/reviewers/").json()
    assert every["simulated"] == "included"
    assert len(every["reviewers"]) == 4
    row = every["reviewers"][0]
    for key in ("reliability", "reliability_rating", "reliability_pairwise", "reliability_blind",
                "consensus_agreement", "gold_accuracy", "simulated"):
        assert key in row
    assert set(row["by_kind"]) == {"rating", "pairwise", "blind"}
    assert set(row["by_kind"]["pairwise"]) == {"answers", "gold_answered", "gold_correct", "gold_accuracy",
                                               "consensus_n", "consensus_agreement", "reliability"}
    people_only = client.get(f"/api/review/campaigns/{campaign.pk}/reviewers/?simulated=exclude").json()
    assert people_only["simulated"] == "excluded"
    assert {r["reviewer"] for r in people_only["reviewers"]} == {reviewer_pseudonym(u.pk) for u in people}
    agreement = client.get(f"/api/review/campaigns/{campaign.pk}/agreement/?simulated=exclude").json()
    assert {d["n_reviewers"] for d in agreement["dimensions"]} == {2}
    assert agreement["simulated"] == "excluded"
    for route in ("reviewers", "agreement"):
        refused = client.get(f"/api/review/campaigns/{campaign.pk}/{route}/?simulated=maybe")
        assert refused.status_code == 400
        assert "simulated" in refused.json()["fields"]
    text = str(every)
    assert all(u.username not in text for u in people + sims)


def test_the_page_labels_them_and_can_leave_them_out(shared, client_for):
    campaign, people, sims = shared
    client = client_for("ml_engineer")
    page = client.get(reverse("review:agreement", args=[campaign.pk])).content.decode()
    assert page.count('data-testid="simulated"') == 2
    assert 'href="?simulated=exclude"' in page
    for kind in ("rating", "pairwise", "blind"):
        assert page.count(f'data-testid="reliability-{kind}"') == 4
    url = reverse("review:agreement", args=[campaign.pk])
    without = client.get(url + "?simulated=exclude").content.decode()
    assert 'data-testid="simulated"' not in without
    assert all(reviewer_pseudonym(u.pk) not in without for u in sims)
    assert all(reviewer_pseudonym(u.pk) in without for u in people)
    assert "left out of" in without
