"""The "with vs without a stage" campaign: each pair is one candidate with the stage and the same
candidate without it; the job resumes where it stopped; the button and the API check the request."""

from __future__ import annotations

import pytest

from generation.faces.services import face_corpus_import
from generation.generator.services import generator_version_register
from generation.models import GenerationJob, Subject
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import Job, JobStatus
from hfplatform.jobs.services import job_run
from review.models import Campaign, TaskKind
from review.stage_comparison import stage_comparison_start, stage_sets
from tests.factories.generation import tiny_generator

pytestmark = pytest.mark.django_db


@pytest.fixture
def version(tmp_path):
    face_corpus_import(limit=3)
    version = generator_version_register(name="tiny-a", files_dir=tiny_generator(tmp_path / "a"),
                                         activate=True)
    version.heldout_subjects = list(Subject.objects.values_list("pk", flat=True))
    version.save(update_fields=["heldout_subjects"])
    return version


def test_stage_sets_add_the_stage_to_the_defaults_and_take_it_away(settings):
    settings.STUDIO_DEFAULT_STAGES = ["super_resolution", "background"]
    assert stage_sets("lighting") == (["super_resolution", "lighting", "background"],
                                      ["super_resolution", "background"])
    assert stage_sets("background") == (["super_resolution", "background"], ["super_resolution"])


def test_the_campaign_pairs_each_candidate_with_and_without_the_stage(version, engineer):
    job = stage_comparison_start(started_by=engineer, version=version, stage="super_resolution", people=2,
                                 candidates=2, enqueue=False)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    campaign = Campaign.objects.get(pk=done.result["campaign"])
    assert campaign.task_kinds == [TaskKind.PAIRWISE]
    items = list(campaign.items.filter(is_gold=False).select_related("headshot", "headshot_b"))
    assert len(items) == 4  # 2 people x 2 candidates
    for item in items:
        with_stage, without = item.headshot, item.headshot_b
        assert with_stage.seed == without.seed
        assert with_stage.subject_id == without.subject_id
        assert [r["name"] for r in with_stage.stages] == ["super_resolution"]
        assert without.stages == []
    assert done.result["with"] == ["super_resolution"]
    assert done.result["without"] == []
    assert done.started_by == engineer


def test_a_restarted_job_goes_on_where_it_stopped(version, engineer):
    job = stage_comparison_start(started_by=engineer, version=version, stage="colour", people=2, candidates=1,
                                 enqueue=False)
    first = job_run(job_id=job.pk)
    made = GenerationJob.objects.count()
    assert made == 4
    # As after a worker restart: run it again with its recorded progress (both people done).
    Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED, params={**first.params})
    again = job_run(job_id=job.pk)
    assert again.status == JobStatus.SUCCEEDED, again.error
    assert GenerationJob.objects.count() == made  # nothing generated twice
    assert Campaign.objects.count() == 2


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"stage": "glamour"}, "stage: Choose one of"),
    ({"stage": "colour", "people": 1}, "people: Between 2 and 100"),
    ({"stage": "colour", "candidates": 9}, "candidates: Between 1 and 4"),
])
def test_bad_requests_store_nothing(version, engineer, kwargs, needle):
    with pytest.raises(ApplicationError, match=needle):
        stage_comparison_start(started_by=engineer, version=version, enqueue=False, **kwargs)
    assert not Job.objects.filter(kind="stage_comparison").exists()


def test_the_api_and_the_button(api_client_for, client_for, version, django_capture_on_commit_callbacks):
    api = api_client_for("ml_engineer")
    with django_capture_on_commit_callbacks(execute=False):
        started = api.post("/api/review/stage-comparisons/", {"version": "tiny-a", "stage": "lighting",
                                                              "people": 2}, format="json")
    assert started.status_code == 202, started.json()
    assert started.json()["kind"] == "stage_comparison"
    bad = api.post("/api/review/stage-comparisons/", {"version": "tiny-a", "stage": "x"}, format="json")
    assert bad.status_code == 400
    assert "stage" in bad.json()["detail"]
    assert api_client_for("reviewer").post("/api/review/stage-comparisons/", {}).status_code == 403
    page = client_for("ml_engineer")
    assert b'data-testid="stage-comparison-form"' in page.get("/generator/").content
    with django_capture_on_commit_callbacks(execute=False):
        response = page.post("/review/stage-comparisons/", {"version": "tiny-a", "stage": "background",
                                                            "people": "2"})
    job = Job.objects.filter(kind="stage_comparison").latest("pk")
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.params["stage"] == "background"
