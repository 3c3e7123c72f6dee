"""Every role against a real campaign and assignment: pages, images and the campaign API.

The routes here are listed in tests/hfplatform/test_access.py's COVERED_ELSEWHERE."""

from __future__ import annotations

import pytest

from hfplatform.accounts.roles import Role

R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN
ROLES = [R, P, E, A, ADM, None]


@pytest.fixture
def campaign(review_world, make_campaign):
    world = review_world(subjects=2, per_subject=2, portraits=2)
    return make_campaign(world, task_kinds=["rating"], overlap=2)


def _expected(role, allowed, ok, refused, anonymous):
    return anonymous if role is None else (ok if role in allowed else refused)


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize(("method", "suffix", "allowed", "ok", "refused"), [
    ("get", "", {E, A, ADM}, 200, 403),
    ("post", "status/", {E, ADM}, 302, 403),
    ("get", "work/", {R, P, ADM}, 200, 403),  # the campaign's allowed roles (reviewer, photographer)
    ("get", "agreement/", {E, A, ADM}, 200, 403),
    ("get", "export/ratings.csv", {E, A, ADM}, 200, 403),
])
def test_campaign_pages(client_for, campaign, role, method, suffix, allowed, ok, refused):
    response = getattr(client_for(role), method)(f"/review/campaigns/{campaign.pk}/{suffix}",
                                                 {"status": "closed"} if method == "post" else {})
    assert response.status_code == _expected(role, allowed, ok, refused, 302)


@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize(("method", "allowed", "ok", "refused"), [
    ("get", {R, P, E, A, ADM}, 200, None),  # reviewers see the open campaigns they can take
    ("patch", {E, ADM}, 200, 403),
    ("delete", {E, ADM}, 204, 403),
])
def test_campaign_api(api_client_for, campaign, role, method, allowed, ok, refused):
    response = getattr(api_client_for(role), method)(f"/api/review/campaigns/{campaign.pk}/",
                                                     {"name": "Renamed"}, format="json")
    assert response.status_code == _expected(role, allowed, ok, refused, 401)


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_the_verdict_is_for_readers(api_client_for, campaign, role):
    """Readers pass the role check and learn this rating campaign compares nothing (a real comparison
    campaign's verdict: tests/review/test_comparison_verdict.py); everyone else is refused."""
    response = api_client_for(role).get(f"/api/review/campaigns/{campaign.pk}/verdict/")
    assert response.status_code == _expected(role, {E, A, ADM}, 404, 403, 401)
    assert response.json()["detail"]


def test_closed_campaign_is_hidden_from_reviewers(api_client_for, campaign):
    from review.services import campaign_update

    campaign_update(campaign=campaign, status="closed")
    reviewer = api_client_for(R)
    assert reviewer.get(f"/api/review/campaigns/{campaign.pk}/").status_code == 404
    assert reviewer.get("/api/review/campaigns/").json() == []
    assert api_client_for(A).get(f"/api/review/campaigns/{campaign.pk}/").status_code == 200


def test_campaign_for_photographers_only(api_client_for, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    photographers = make_campaign(world, task_kinds=["rating"], allowed_roles=["photographer"])
    reviewer, photographer = api_client_for(R), api_client_for(P)
    refused = reviewer.get(f"/api/review/next/?campaign={photographers.pk}")
    assert refused.status_code == 403
    assert "photographer" in refused.json()["detail"]
    assert photographer.get(f"/api/review/next/?campaign={photographers.pk}").json()["assignment"]
    assert [c["id"] for c in reviewer.get("/api/review/campaigns/").json()] == []


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_assignment_images_only_for_the_holder_and_readers(client_for, make_user, campaign, role):
    from review.services import assignment_next

    holder = make_user(R)
    assignment = assignment_next(campaign=campaign, reviewer=holder)
    client = client_for(role)
    response = client.get(f"/review/assignments/{assignment.pk}/headshot.png")
    expected = _expected(role, {E, A, ADM}, 200, 404, 302)
    assert response.status_code == expected
    if role is not None:
        client.force_login(holder)
        mine = client.get(f"/review/assignments/{assignment.pk}/headshot.png")
        assert mine.status_code == 200
        assert mine.content[:4] == b"\x89PNG"
        assert client.get(f"/review/assignments/{assignment.pk}/nonsense.png").status_code == 404


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_standing_is_for_those_who_see_the_campaign(api_client_for, campaign, role):
    response = api_client_for(role).get(f"/api/review/campaigns/{campaign.pk}/standing/")
    assert response.status_code == (401 if role is None else 200)  # every role sees this open campaign
    if role is not None:
        assert set(response.json()) == {"you", "others"}


def test_standing_of_a_campaign_one_cannot_take_is_a_404(api_client_for, review_world, make_campaign):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    photographers = make_campaign(world, task_kinds=["rating"], allowed_roles=["photographer"])
    assert api_client_for(R).get(f"/api/review/campaigns/{photographers.pk}/standing/").status_code == 404
