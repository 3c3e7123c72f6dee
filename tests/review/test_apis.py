"""The review API as a client script uses it: campaigns, next item, answers, errors."""

from __future__ import annotations

import json

import pytest

from review.models import BlindJudgement, Comparison, Rating, ReviewItem


@pytest.fixture
def world(review_world):
    return review_world(subjects=2, per_subject=3, portraits=3)


def _create(client, world, **body):
    payload = {"name": "API campaign", "task_kinds": ["rating"], "generator_version": world.version.name,
               "gold_rate": 0.0, **body}
    return client.post("/api/review/campaigns/", payload, format="json")


def test_engineer_creates_and_lists_a_campaign(api_client_for, world):
    engineer = api_client_for("ml_engineer")
    created = _create(engineer, world, task_kinds=["rating", "pairwise", "blind"], overlap=2)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["progress"]["kinds"]["rating"] == {"items": 6, "needed": 12, "done": 0}
    assert body["selection"]["generator_version"] == world.version.name
    assert body["created_by"] == engineer.user.username
    assert [c["id"] for c in engineer.get("/api/review/campaigns/").json()] == [body["id"]]
    renamed = engineer.patch(f"/api/review/campaigns/{body['id']}/", {"name": "Renamed", "status": "closed"},
                             format="json")
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["closed_at"]


def test_campaigns_are_searched_by_name_description_and_id_and_filtered_by_status(
        api_client_for, client_for, world):
    engineer = api_client_for("ml_engineer")
    spring = _create(engineer, world, name="Spring likeness", description="Does it look like them?").json()
    studio = _create(engineer, world, name="Studio light").json()
    engineer.patch(f"/api/review/campaigns/{studio['id']}/", {"status": "closed"}, format="json")

    def found(client, query: str) -> list[int]:
        response = client.get(f"/api/review/campaigns/?{query}")
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()]

    assert found(engineer, "search=LIKENESS") == [spring["id"]]
    assert found(engineer, "search=look+them") == [spring["id"]]  # words of the description
    assert found(engineer, f"search={studio['id']}") == [studio["id"]]
    assert found(engineer, "status=closed") == [studio["id"]]
    assert found(engineer, "search=light&status=open") == []
    assert engineer.get("/api/review/campaigns/?status=archived").status_code == 400
    reviewer = api_client_for("reviewer")
    assert found(reviewer, "search=studio") == []  # closed: reviewers never see it, searched or not
    assert found(reviewer, "status=closed") == []
    page = client_for("auditor").get("/review/?search=spring").content.decode()
    assert "Spring likeness" in page
    assert "Studio light" not in page
    assert 'value="spring"' in page
    nothing = client_for("auditor").get("/review/?search=zzz").content.decode()
    assert "No campaign matches these filters." in nothing


@pytest.mark.parametrize(("body", "field"), [
    ({"task_kinds": ["mind_reading"]}, "task_kinds"), ({"overlap": 0}, "overlap"),
    ({"gold_rate": 2}, "gold_rate"), ({"allowed_roles": ["superuser"]}, "allowed_roles"),
])
def test_bad_campaign_is_a_400_with_the_field(api_client_for, world, body, field):
    response = _create(api_client_for("ml_engineer"), world, **body)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not ReviewItem.objects.exists()


def test_a_campaign_of_a_version_that_does_not_exist_is_a_404_with_the_field(api_client_for, world):
    response = _create(api_client_for("ml_engineer"), world, generator_version="nope")
    assert response.status_code == 404
    assert response.json()["fields"] == {"generator_version": ["Not found."]}
    assert not ReviewItem.objects.exists()


def test_pairs_of_different_subjects_are_refused(api_client_for, world):
    a, b = world.subjects
    response = _create(api_client_for("ml_engineer"), world, task_kinds=["pairwise"],
                       pairs=[[world.by_subject[a.pk][0].pk, world.by_subject[b.pk][0].pk]])
    assert response.status_code == 400
    assert response.json()["code"] == "pair_different_subjects"


def test_reviewer_loop_rating_then_no_work(api_client_for, make_campaign, world):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer = api_client_for("reviewer")
    answered = 0
    while True:
        task = reviewer.get(f"/api/review/next/?campaign={campaign.pk}").json()
        if task["assignment"] is None:
            assert "No work left" in task["detail"]
            break
        assignment = task["assignment"]
        text = json.dumps(assignment)
        for secret in (world.version.name, "gold", "score", "reward", "headshot_id"):
            assert secret not in text  # blind: nothing about version, gold or anyone's answers
        assert set(assignment["images"]) == {"headshot", "reference"}
        stored = reviewer.post("/api/review/ratings/", {
            "assignment": assignment["id"], "professionalism": 4, "likeness": 5, "appeal": 3,
            "flags": ["hair"], "comment": "fine", "time_spent_ms": 1234}, format="json")
        assert stored.status_code == 201, stored.json()
        answered += 1
    assert answered == 6 == Rating.objects.filter(reviewer=reviewer.user).count()
    assert task["done"] == 6


def test_idempotent_answers_and_conflicts(api_client_for, make_campaign, world):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer = api_client_for("reviewer")
    assignment = reviewer.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    body = {"assignment": assignment["id"], "professionalism": 4, "likeness": 4, "appeal": 4}
    first = reviewer.post("/api/review/ratings/", body, format="json")
    again = reviewer.post("/api/review/ratings/", body, format="json")
    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["created"] is False
    changed = reviewer.post("/api/review/ratings/", {**body, "appeal": 1}, format="json")
    assert changed.status_code == 409
    assert changed.json()["code"] == "already_answered"
    assert Rating.objects.get().appeal == 4


@pytest.mark.parametrize("bad", [{"professionalism": 7}, {"likeness": 0}, {"flags": ["glitter"]},
                                 {"assignment": 999999}])
def test_bad_rating_is_a_4xx_and_stores_nothing(api_client_for, make_campaign, world, bad):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer = api_client_for("reviewer")
    assignment = reviewer.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    body = {"assignment": assignment["id"], "professionalism": 4, "likeness": 4, "appeal": 4, **bad}
    response = reviewer.post("/api/review/ratings/", body, format="json")
    assert response.status_code in (400, 404)
    assert response.json()["detail"]
    assert not Rating.objects.exists()


def test_someone_elses_assignment_is_refused(api_client_for, make_campaign, world):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    holder, other = api_client_for("reviewer"), api_client_for("reviewer")
    assignment = holder.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    response = other.post("/api/review/ratings/", {"assignment": assignment["id"], "professionalism": 3,
                                                   "likeness": 3, "appeal": 3}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_assignment"
    assert not Rating.objects.exists()


def test_pairwise_and_blind_through_the_api(api_client_for, make_campaign, world):
    pairwise = make_campaign(world, task_kinds=["pairwise"], overlap=1)
    blind = make_campaign(world, task_kinds=["blind"], overlap=1)
    reviewer = api_client_for("photographer")
    task = reviewer.get(f"/api/review/next/?campaign={pairwise.pk}").json()["assignment"]
    assert set(task["images"]) == {"left", "right", "reference"}
    assert task["expert_notes"] is True
    bad = reviewer.post("/api/review/comparisons/", {"assignment": task["id"], "choice": "both"},
                        format="json")
    assert bad.status_code == 400
    ok = reviewer.post("/api/review/comparisons/", {"assignment": task["id"], "choice": "tie",
                                                    "reason": "likeness", "expert_note": "Both too soft."},
                       format="json")
    assert ok.status_code == 201
    comparison = Comparison.objects.get()
    assert comparison.winner == "tie"
    assert comparison.reviewer_role == "photographer"
    task = reviewer.get(f"/api/review/next/?campaign={blind.pk}").json()["assignment"]
    assert set(task["images"]) == {"image"}
    assert reviewer.post("/api/review/blind/", {"assignment": task["id"], "answer": "studio",
                                                "confidence": 9}, format="json").status_code == 400
    assert reviewer.post("/api/review/blind/", {"assignment": task["id"], "answer": "studio",
                                                "confidence": 5}, format="json").status_code == 201
    assert BlindJudgement.objects.get().confidence == 5


def test_closed_campaign_refuses_work_and_answers(api_client_for, make_campaign, world):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer, engineer = api_client_for("reviewer"), api_client_for("ml_engineer")
    assignment = reviewer.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    engineer.patch(f"/api/review/campaigns/{campaign.pk}/", {"status": "closed"}, format="json")
    answer = reviewer.post("/api/review/ratings/", {"assignment": assignment["id"], "professionalism": 3,
                                                    "likeness": 3, "appeal": 3}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "campaign_closed"
    assert reviewer.get(f"/api/review/next/?campaign={campaign.pk}").status_code == 409
    assert not Rating.objects.exists()


def test_delete_refused_once_answered(api_client_for, make_campaign, world):
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    reviewer, engineer = api_client_for("reviewer"), api_client_for("ml_engineer")
    assignment = reviewer.get(f"/api/review/next/?campaign={campaign.pk}").json()["assignment"]
    reviewer.post("/api/review/ratings/", {"assignment": assignment["id"], "professionalism": 3,
                                           "likeness": 3, "appeal": 3}, format="json")
    response = engineer.delete(f"/api/review/campaigns/{campaign.pk}/")
    assert response.status_code == 409
    assert Rating.objects.count() == 1


def test_next_needs_a_campaign(api_client_for):
    reviewer = api_client_for("reviewer")
    assert reviewer.get("/api/review/next/").status_code == 400
    assert reviewer.get("/api/review/next/?campaign=424242").status_code == 404
