"""Who may see the agreement page, the CSV downloads and the agreement/reviewer APIs, and what they show."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from hfplatform.accounts.roles import Role
from review.models import Comparison, Rating
from review.quality import reviewer_pseudonym
from tests.factories.review import answer_all, honest

R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
ALLOWED = {E, A, ADM}


@pytest.fixture
def campaign(review_world, make_campaign, make_user):
    world = review_world(subjects=2, per_subject=3, portraits=2)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise", "blind"], overlap=2, gold_rate=0.2)
    answer_all(campaign, make_user("reviewer"), honest)
    answer_all(campaign, make_user("photographer"), honest)
    return campaign


@pytest.mark.parametrize("role", [*Role, None])
def test_agreement_page_is_for_readers(client_for, campaign, role):
    response = client_for(role).get(reverse("review:agreement", args=[campaign.pk]))
    if role is None:
        assert response.status_code == 302
        assert "/login/" in response["Location"]
    elif role in ALLOWED:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_agreement_page_shows_figures_charts_and_pseudonyms(client_for, campaign):
    page = client_for(A).get(reverse("review:agreement", args=[campaign.pk])).content.decode()
    for chart in ("chart-alpha", "chart-reliability", "chart-blind"):
        assert f'data-testid="{chart}"' in page
    assert page.count('role="img"') == 3
    assert "0.667 tentative" in page
    assert "chance 50%" in page
    reviewers = set(Rating.objects.filter(campaign=campaign).values_list("reviewer_id", "reviewer__username"))
    for user_id, username in reviewers:
        assert reviewer_pseudonym(user_id) in page
        assert username not in page
    assert reverse("review:export", args=[campaign.pk, "ratings"]) in page


def test_agreement_page_says_unavailable_without_answers(client_for, review_world, make_campaign):
    campaign = make_campaign(review_world(subjects=1, per_subject=2, portraits=0), task_kinds=["rating"])
    page = client_for(E).get(reverse("review:agreement", args=[campaign.pk])).content.decode()
    assert "unavailable: fewer than 2 reviewers" in page
    assert "unavailable: no judgements" in page


def test_agreement_page_for_an_unknown_campaign_is_404(client_for, db):
    assert client_for(A).get(reverse("review:agreement", args=[987654])).status_code == 404


@pytest.mark.parametrize(("role", "expected"), [(A, 200), (E, 200), (ADM, 200), (R, 403), (P, 403)])
def test_csv_download_is_for_readers(client_for, campaign, role, expected):
    response = client_for(role).get(reverse("review:export", args=[campaign.pk, "ratings"]))
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Disposition"] == f'attachment; filename="campaign-{campaign.pk}-ratings.csv"'
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert len(rows) == Rating.objects.filter(campaign=campaign).count()


def test_csv_download_of_an_unknown_kind_or_campaign_is_404(client_for, campaign):
    client = client_for(A)
    assert client.get(reverse("review:export", args=[campaign.pk, "subjects"])).status_code == 404
    assert client.get(reverse("review:export", args=[987654, "blind"])).status_code == 404


@pytest.mark.parametrize("role", [*Role, None])
@pytest.mark.parametrize("route", ["agreement", "reviewers"])
def test_apis_are_for_readers(api_client_for, campaign, role, route):
    response = api_client_for(role).get(f"/api/review/campaigns/{campaign.pk}/{route}/")
    expected = 401 if role is None else 200 if role in ALLOWED else 403
    assert response.status_code == expected


def test_agreement_api_figures(api_client_for, campaign):
    body = api_client_for(A).get(f"/api/review/campaigns/{campaign.pk}/agreement/").json()
    dims = {d["name"]: d for d in body["dimensions"]}
    assert set(dims) == {"professionalism", "likeness", "appeal", "pairwise"}
    assert dims["appeal"]["alpha"] == pytest.approx(1.0)  # both answer the same way
    assert dims["appeal"]["n_reviewers"] == 2
    assert body["blind"]["overall"]["n"] > 0
    assert set(body["blind"]["by_truth"]) == {"generated", "real"}
    assert body["rating_means"]["photographer_weight"] == 2.0
    assert body["thresholds"] == {"tentative": 0.667, "reliable": 0.8}


def test_reviewers_api_is_pseudonymised(api_client_for, campaign):
    body = api_client_for(E).get(f"/api/review/campaigns/{campaign.pk}/reviewers/").json()
    reviewers = set(Rating.objects.filter(campaign=campaign).values_list("reviewer_id", "reviewer__username"))
    assert {row["reviewer"] for row in body["reviewers"]} == {reviewer_pseudonym(pk) for pk, _ in reviewers}
    assert {row["role"] for row in body["reviewers"]} == {"reviewer", "photographer"}
    text = str(body)
    for _, username in reviewers:
        assert username not in text


def test_unknown_campaign_is_a_json_404(api_client_for, db):
    for route in ("agreement", "reviewers"):
        response = api_client_for(A).get(f"/api/review/campaigns/987654/{route}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_export_api_rows_and_kind_check(api_client_for, campaign):
    client = api_client_for(A)
    body = client.get(f"/api/review/campaigns/{campaign.pk}/export/?kind=comparisons").json()
    assert body["kind"] == "comparisons"
    assert len(body["rows"]) == Comparison.objects.filter(campaign=campaign).count()
    assert set(body["rows"][0]) == set(body["columns"])
    refused = client.get(f"/api/review/campaigns/{campaign.pk}/export/?kind=nope")
    assert refused.status_code == 400
    assert api_client_for(R).get(f"/api/review/campaigns/{campaign.pk}/export/?kind=blind").status_code == 403


def test_apis_are_in_the_openapi_schema(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for route in ("agreement", "reviewers", "export"):
        assert f"/api/review/campaigns/{{campaign_id}}/{route}/" in paths
    agreement = paths["/api/review/campaigns/{campaign_id}/agreement/"]["get"]
    assert "200" in agreement["responses"]
