"""People as the promotion gate's judge: a version comparison campaign pairs the same candidate made by
the candidate generator and by the active one on held-out people; reviewers answer in it; once there
are enough answers the gate takes them as its judge (share preferring each version per person, paired
bootstrap over the people), promotes what people prefer and refuses what they do not.

The generators are untrained; a candidate's output raised by a shift is brighter
(``tests/factories/promotion.py``). The reviewers here look at the two images the platform shows them
and prefer the brighter one: the objective this test defines."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from hfplatform.errors import ApplicationError, Conflict
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.services import job_run
from monitoring.models import PromotionDecision
from monitoring.promotion import JUDGE, promotion_gate_start
from monitoring.version_comparison import version_comparison_start
from review.models import Campaign, Comparison, TaskKind
from review.selectors import assignment_image_png
from review.services import assignment_next, campaign_create, comparison_submit

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _comparison_campaign(candidate, engineer) -> Campaign:
    job = version_comparison_start(started_by=engineer, candidate=candidate, people=5, candidates=2,
                                   stages=[], enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    return Campaign.objects.get(pk=done.result["campaign"])


def _brightness(png: bytes) -> float:
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float).mean())


def _answer_brighter(campaign: Campaign, reviewers: list) -> int:
    """Each reviewer answers until they have no work left, choosing the brighter image as shown."""
    answered = 0
    for reviewer in reviewers:
        while (assignment := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
            left, right = (_brightness(assignment_image_png(assignment=assignment, side=side))
                           for side in ("left", "right"))
            choice = "tie" if abs(left - right) < 0.5 else ("left" if left > right else "right")
            comparison_submit(reviewer=reviewer, assignment_id=assignment.pk, choice=choice)
            answered += 1
    return answered


def _gate(candidate, campaign, engineer) -> PromotionDecision:
    job = promotion_gate_start(candidate=candidate, judge=None, judge_campaign=campaign, started_by=engineer,
                               steps=2, enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    return PromotionDecision.objects.get(job=done)


def test_people_prefer_the_brighter_candidate_and_the_gate_promotes_it(
        make_candidate, gate_baseline, engineer, make_user, make_reward_model, corpus_subjects, settings,
        api_client_for, client_for):
    settings.PROMOTION_GATE_MIN_HUMAN_ANSWERS = 20
    candidate = make_candidate()
    campaign = _comparison_campaign(candidate, engineer)
    # Every item pairs the same candidate (same person, same seed) made by each version.
    items = list(campaign.items.filter(is_gold=False).select_related("headshot", "headshot_b"))
    assert campaign.task_kinds == [TaskKind.PAIRWISE]
    assert len(items) == 5 * 2
    for item in items:
        assert {item.headshot.generator_version_id, item.headshot_b.generator_version_id} == {
            candidate.pk, gate_baseline.pk}
        assert item.headshot.seed == item.headshot_b.seed
        assert item.headshot.subject_id == item.headshot_b.subject_id == item.subject_id
    compared = campaign.selection["version_comparison"]
    assert (compared["candidate"], compared["baseline"]) == (candidate.name, gate_baseline.name)
    assert compared["subjects"] == [s.pk for s in corpus_subjects[:5]]

    # Before enough answers: a 409, nothing started.
    jobs = Job.objects.count()
    with pytest.raises(Conflict) as refused:
        promotion_gate_start(candidate=candidate, judge=None, judge_campaign=campaign, started_by=engineer)
    assert refused.value.code == "too_few_human_answers"
    assert Job.objects.count() == jobs
    # One judge, not two; a campaign that is not a version comparison cannot judge.
    with pytest.raises(ApplicationError) as both:
        promotion_gate_start(candidate=candidate, judge=make_reward_model("rm-judge"),
                             judge_campaign=campaign, started_by=engineer)
    assert both.value.code == "two_judges"
    plain = campaign_create(created_by=engineer, name="plain", task_kinds=["pairwise"],
                            pairs=[[items[0].headshot_id, items[0].headshot_b_id]])
    client = api_client_for("ml_engineer")
    response = client.post(f"/api/generator/versions/{candidate.name}/evaluations/",
                           {"judge_campaign": plain.pk}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "judge_campaign_mismatch"
    response = client.post(f"/api/generator/versions/{candidate.name}/evaluations/",
                           {"judge_campaign": 10**9}, format="json")
    assert response.status_code == 404, response.json()
    assert Job.objects.count() == jobs

    answered = _answer_brighter(campaign, [make_user("reviewer") for _ in range(3)])
    stored = Comparison.objects.filter(campaign=campaign, item__is_gold=False).count()
    assert stored >= 20
    assert answered >= stored

    # The campaign's own page and API read out the same verdict the gate takes.
    verdict = client.get(f"/api/review/campaigns/{campaign.pk}/verdict/").json()
    assert (verdict["kind"], verdict["first"]) == ("version_comparison", f"{candidate.name} (candidate)")
    assert (verdict["first_share"], verdict["second_share"], verdict["difference"]) == (1.0, 0.0, 1.0)
    assert verdict["verdict"] == f"People prefer {candidate.name} (candidate)."

    decision = _gate(candidate, campaign, engineer)
    assert decision.outcome == "passed", decision.reasons
    assert decision.judge is None
    assert decision.judge_campaign == campaign
    assert decision.judged_by_people
    judge = decision.figures[JUDGE]
    assert "Held-out human pairs" in judge["label"]
    assert judge["n"] == 5  # people asked
    # Every answer preferred the brighter candidate: per person, share 1 against 0.
    assert (judge["baseline"], judge["candidate"], judge["difference"]) == (0.0, 1.0, 1.0)
    assert judge["interval"][0] > 0
    assert judge["verdict"] == "pass"
    assert f"{stored} answers by 3 reviewer(s) on 5 people" in judge["note"]
    assert all(row["judge"] == {"baseline": 0.0, "candidate": 1.0} for row in decision.per_person)
    # The guards come from the held-out evaluation as with a reward-model judge.
    assert decision.figures["kid"]["verdict"] == "pass"

    page = client_for("auditor").get(f"/monitoring/promotions/{decision.pk}/").content.decode()
    assert f"campaign #{campaign.pk}" in page
    assert "Share of answers preferring" in page
    response = client.get(f"/api/generator/versions/{candidate.name}/decisions/")
    assert response.json()[0]["judge_campaign"] == campaign.pk
    response = client.post(f"/api/generator/versions/{candidate.name}/promote/", {}, format="json")
    assert response.status_code == 200, response.json()
    candidate.refresh_from_db()
    assert candidate.status == "active"


def test_people_refuse_a_darker_candidate_that_its_training_reward_liked(
        make_candidate, gate_baseline, engineer, make_user, make_reward_model, settings):
    settings.PROMOTION_GATE_MIN_HUMAN_ANSWERS = 20
    make_reward_model("rm-dark", weight=-1.0)  # scores darker headshots higher
    candidate = make_candidate(name="gate-dark", shift=-0.3, training_reward="rm-dark")
    campaign = _comparison_campaign(candidate, engineer)
    _answer_brighter(campaign, [make_user("reviewer") for _ in range(3)])

    with pytest.raises(CommandError, match="Refused by the promotion gate"):
        call_command("promote_generator", candidate.name, "--judge-campaign", str(campaign.pk),
                     "--steps", "2", "--evaluate-only")
    decision = PromotionDecision.objects.get(candidate=candidate)
    assert decision.outcome == "refused"
    judge = decision.figures[JUDGE]
    assert judge["difference"] == -1.0
    assert judge["verdict"] == "fail"
    assert any(reason.startswith("The judge does not show an improvement") for reason in decision.reasons)
    assert any(reason.startswith("Possible reward hacking") for reason in decision.reasons), decision.reasons
    candidate.refresh_from_db()
    assert candidate.status == "candidate"


def test_the_comparison_campaign_checks_its_request(make_candidate, gate_baseline, engineer, api_client_for,
                                                    client_for):
    candidate = make_candidate()
    client = api_client_for("ml_engineer")
    jobs = Job.objects.count()
    response = client.post(f"/api/generator/versions/{gate_baseline.name}/comparison-campaigns/", {},
                           format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "already_active"
    response = client.post(f"/api/generator/versions/{candidate.name}/comparison-campaigns/", {"people": 2},
                           format="json")
    assert response.status_code == 400
    assert "people" in response.json()["fields"]
    response = client.post(f"/api/generator/versions/{candidate.name}/comparison-campaigns/",
                           {"stages": ["no_such_stage"]}, format="json")
    assert response.status_code == 400
    assert "stages" in response.json()["fields"]
    response = api_client_for("reviewer").post(
        f"/api/generator/versions/{candidate.name}/comparison-campaigns/", {}, format="json")
    assert response.status_code == 403
    assert Job.objects.count() == jobs
    # The versions page's button starts the job (started by whoever pressed it) and follows it.
    browser = client_for("ml_engineer")
    page = browser.get("/generator/").content.decode()
    assert f'/monitoring/versions/{candidate.name}/comparison-campaign/' in page
    response = browser.post(f"/monitoring/versions/{candidate.name}/comparison-campaign/", {"people": "5"})
    job = Job.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.kind == "version_comparison"
    assert job.started_by == browser.user
    assert job.params["subjects"]
    assert job.params["baseline"] == gate_baseline.name
