"""People's verdict of a "with vs without a stage" campaign: per person the share of answers preferring
each side, the mean difference with a bootstrap over people, and "people prefer …" only when the
interval leaves 0 out and there are enough answers; on the campaign page and through the API, for
readers only.

The stage compared is super-resolution: with it a headshot is 256 px, without it 64 px. The reviewers
here answer through the review services and prefer the larger image they are shown (or the smaller:
the objective each test defines)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group
from PIL import Image

from generation.faces.services import face_corpus_import
from generation.generator.services import generator_version_register
from generation.models import Subject
from hfplatform.accounts.selectors import SIMULATED_GROUP
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from review.comparison_verdict import MIN_ANSWERS, MIN_PEOPLE, NotAComparison, comparison_verdict, pair_shares
from review.models import Campaign, Comparison
from review.selectors import assignment_image_png
from review.services import assignment_next, campaign_create, comparison_submit
from review.stage_comparison import stage_comparison_start
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(tmp_path, engineer) -> Campaign:
    face_corpus_import(limit=8)
    version = generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"),
                                         activate=True)
    version.heldout_subjects = list(Subject.objects.values_list("pk", flat=True))
    version.save(update_fields=["heldout_subjects"])
    assert len(version.heldout_subjects) >= MIN_PEOPLE
    job = stage_comparison_start(started_by=engineer, version=version, stage="super_resolution",
                                 people=MIN_PEOPLE, candidates=4, enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    return Campaign.objects.get(pk=done.result["campaign"])


def _width(png: bytes) -> int:
    return Image.open(io.BytesIO(png)).width


def _answer(campaign: Campaign, reviewers: list, prefer: str, reason: str = "") -> int:
    """Each reviewer answers until no work is left, choosing the ``prefer`` ("larger"/"smaller") image."""
    answered = 0
    for reviewer in reviewers:
        while (assignment := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
            left, right = (_width(assignment_image_png(assignment=assignment, side=side))
                           for side in ("left", "right"))
            assert left != right  # 256 px with the stage, 64 px without it
            larger = "left" if left > right else "right"
            choice = larger if prefer == "larger" else ("right" if larger == "left" else "left")
            comparison_submit(reviewer=reviewer, assignment_id=assignment.pk, choice=choice, reason=reason)
            answered += 1
    return answered


def test_people_prefer_the_headshots_with_the_stage(campaign, make_user, api_client_for, client_for):
    compared = campaign.selection["stage_comparison"]
    assert (compared["stage"], compared["with"], compared["without"]) == (
        "super_resolution", ["super_resolution"], [])

    before = comparison_verdict(campaign)
    assert (before.shares.answers, before.difference, before.enough) == (0, None, False)
    assert before.verdict.startswith("Not enough answers yet: 0 on 0 people")

    answered = _answer(campaign, [make_user("reviewer") for _ in range(3)], "larger", reason="professional")
    stored = Comparison.objects.filter(campaign=campaign, item__is_gold=False).count()
    assert stored >= MIN_ANSWERS
    assert answered >= stored  # gold answers are not counted

    api = api_client_for("auditor")
    verdict = api.get(f"/api/review/campaigns/{campaign.pk}/verdict/").json()
    assert (verdict["first"], verdict["second"]) == ("with super_resolution", "without super_resolution")
    assert (verdict["people"], verdict["answers"], verdict["reviewers"], verdict["ties"]) == (
        MIN_PEOPLE, stored, 3, 0)
    assert (verdict["first_share"], verdict["second_share"], verdict["difference"]) == (1.0, 0.0, 1.0)
    assert verdict["interval"] == [1.0, 1.0]
    assert verdict["enough"] is True
    assert verdict["verdict"] == "People prefer with super_resolution."
    assert verdict["reasons"]["first"] == {"professional": stored, "likeness": 0, "appeal": 0}
    assert sum(row["answers"] for row in verdict["per_person"]) == stored

    page = client_for("ml_engineer").get(f"/review/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="verdict"' in page
    assert "People prefer with super_resolution." in page
    assert api_client_for("reviewer").get(f"/api/review/campaigns/{campaign.pk}/verdict/").status_code == 403
    versions = client_for("auditor").get("/generator/").content.decode()
    assert 'data-testid="version-notes"' in versions
    assert f"({stored} answers): People prefer with super_resolution." in versions


def test_split_answers_give_no_clear_preference_and_simulated_reviewers_can_be_left_out(
        campaign, make_user, api_client_for):
    people = [make_user("reviewer") for _ in range(2)]
    robot = make_user("reviewer")
    robot.groups.add(Group.objects.get_or_create(name=SIMULATED_GROUP)[0])
    _answer(campaign, people, "larger")
    _answer(campaign, [robot], "smaller")

    api = api_client_for("ml_engineer")
    everyone = api.get(f"/api/review/campaigns/{campaign.pk}/verdict/").json()
    robot_answers = Comparison.objects.filter(campaign=campaign, item__is_gold=False, reviewer=robot).count()
    assert everyone["simulated_answers"] == robot_answers > 0
    assert 0 < everyone["first_share"] < 1
    low, high = everyone["interval"]
    assert low <= everyone["difference"] <= high
    people_only = api.get(f"/api/review/campaigns/{campaign.pk}/verdict/?simulated=exclude").json()
    assert people_only["simulated"] == "excluded"
    assert people_only["answers"] == everyone["answers"] - robot_answers
    assert people_only["first_share"] == 1.0
    assert api.get(f"/api/review/campaigns/{campaign.pk}/verdict/?simulated=maybe").status_code == 400


def test_a_campaign_that_compares_nothing_has_no_verdict(campaign, engineer, api_client_for, client_for):
    item = campaign.items.filter(is_gold=False).first()
    plain = campaign_create(created_by=engineer, name="plain", task_kinds=["pairwise"],
                            pairs=[[item.headshot_id, item.headshot_b_id]])
    with pytest.raises(NotAComparison):
        comparison_verdict(plain)
    response = api_client_for("auditor").get(f"/api/review/campaigns/{plain.pk}/verdict/")
    assert response.status_code == 404
    assert "not a comparison campaign" in response.json()["detail"]
    assert api_client_for("auditor").get("/api/review/campaigns/999999/verdict/").status_code == 404
    page = client_for("ml_engineer").get(f"/review/campaigns/{plain.pk}/").content.decode()
    assert 'data-testid="verdict"' not in page


def test_pair_shares_count_each_person_once_and_ties_for_neither():
    shares = pair_shares([
        (1, "a", "a", 10, "professional"), (1, "a", "b", 11, ""), (1, "b", "tie", 12, ""),
        (2, "b", "b", 10, "appeal"), (2, "b", "b", 11, "appeal"),
    ])
    assert shares.subjects == [1, 2]
    assert list(shares.first_share) == [1 / 3, 1.0]
    assert list(shares.second_share) == [1 / 3, 0.0]
    assert (shares.answers, shares.ties, shares.reviewers) == (5, 1, 3)
    assert shares.reasons == {"first": {"professional": 1, "appeal": 2}, "second": {}}
