"""The metric_snapshot job: figures with n and intervals, unavailable weights, refusals."""

from __future__ import annotations

import pytest

from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from monitoring.models import MetricSnapshot, SnapshotStatus
from monitoring.services import metric_snapshot_start
from tests.factories.generation import tiny_generator

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _run(snapshot: MetricSnapshot) -> MetricSnapshot:
    done = job_run(job_id=snapshot.job_id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    snapshot.refresh_from_db()
    return snapshot


def test_snapshot_computes_every_figure_with_n_and_interval(version, engineer, settings, tmp_path, client_for,
                                                            api_client_for):
    from generation.models import GeneratorVersion

    active = GeneratorVersion.objects.create(name="v-active", files_dir="/nonexistent", status="active")
    MetricSnapshot.objects.create(generator_version=active, status=SnapshotStatus.DONE,
                                  figures={"kid": {"value": -1.0, "n": 10}})
    settings.STUDIO_DEFAULT_STAGES = ["super_resolution", "lighting", "colour"]  # the production default
    snapshot = metric_snapshot_start(generator_version=version, started_by=engineer, candidates=2, steps=2,
                                     enqueue=False)
    assert snapshot.status == SnapshotStatus.PENDING
    assert snapshot.started_by == engineer
    assert snapshot.job.started_by == engineer
    snapshot = _run(snapshot)
    assert snapshot.status == SnapshotStatus.DONE
    assert snapshot.finished_at
    figures = snapshot.figures
    images = 2 * 5
    for name in ("fid", "kid"):
        assert figures[name]["value"] is not None, figures[name]
        assert figures[name]["n"] == images
        assert figures[name]["small_n"] is True
        assert "inception" in figures[name]["extractor"].lower()
    assert any("KID" in note for note in snapshot.notes)
    for name in ("lpips_likeness", "identity_verification_rate", "identity_verification_rate_to_portrait"):
        figure = figures[name]
        assert figure["n"] == images
        assert figure["extractor"]
        low, high = figure["interval"]
        assert low <= figure["value"] <= high
    assert figures["lpips_diversity"]["n"] == 5  # one pair per person
    assert figures["lpips_diversity"]["value"] > 0
    assert set(snapshot.human) == {"rating_professionalism", "rating_likeness", "rating_appeal",
                                   "pairwise_win_rate", "blind_detection_rate"}
    assert snapshot.human["rating_appeal"]["n"] == 0
    assert snapshot.human["rating_appeal"]["unavailable"].startswith("unavailable:")
    assert len(snapshot.per_image) == images
    report = snapshot.fairness["skin_tone"]["identity_verified"]
    assert report["overall"]["n"] == images
    assert snapshot.fairness["skin_tone"]["identity_verified_to_portrait"]["overall"]["n"] == images
    # The untrained generator's noise is nobody: not verified against the input nor the portrait.
    assert {row["identity_verified_to_portrait"] for row in snapshot.per_image} == {0.0}
    assert "dlib" in figures["identity_distance_to_portrait"]["extractor"]
    assert "rejection_rate" in snapshot.fairness["pipeline"]
    kid_alert = next(a for a in snapshot.alerts if a["rule"] == "kid_worse_than_active_by")
    assert kid_alert["threshold"] == 0.01
    assert "v-active" in kid_alert["message"]
    # The default studio stages on the same headshots: identity before and after, skin tone by group.
    studio = snapshot.studio
    assert snapshot.stages is True
    assert studio["stages"] == ["super_resolution", "lighting", "colour"]
    assert (studio["people"], studio["images"]) == (5, images)
    for key in ("raw_64", "raw_256_bicubic", "staged"):
        assert studio["identity"][key]["n"] == images
    assert studio["identity"]["staged"]["verified"]["count"] == 0  # noise is nobody, staged or not
    assert sum(group["n"] for group in studio["groups"].values()) == studio["abs_delta_ita"]["n"] > 0
    for record in studio["records"].values():  # each stage ran on 5 portraits and 10 headshots
        assert record["applied"] + record["skipped"] + record["unavailable"] == 5 + images
    page = client_for("auditor").get(f"/monitoring/snapshots/{snapshot.pk}/").content.decode()
    assert 'data-testid="snapshot-studio"' in page
    assert "after the stages" in page
    body = api_client_for("auditor").get(f"/api/monitoring/snapshots/{snapshot.pk}/").json()
    assert body["studio"]["images"] == images
    assert body["stages"] is True


def test_a_failing_job_marks_the_snapshot_failed(version, engineer):
    import shutil

    snapshot = metric_snapshot_start(generator_version=version, started_by=engineer, steps=2, enqueue=False)
    shutil.rmtree(version.files_dir)
    done = job_run(job_id=snapshot.job_id)
    assert done.status == JobStatus.FAILED
    snapshot.refresh_from_db()
    assert snapshot.status == SnapshotStatus.FAILED
    assert snapshot.error


def test_missing_weights_make_metrics_unavailable(version, engineer, settings, tmp_path):
    settings.METRICS_CACHE = tmp_path / "no-cache"
    settings.TORCH_HOME = tmp_path / "no-torch"
    settings.METRICS_CACHE.mkdir()
    settings.TORCH_HOME.mkdir()
    snapshot = _run(metric_snapshot_start(generator_version=version, started_by=engineer, candidates=2,
                                          steps=2, stages=False, enqueue=False))
    assert snapshot.studio == {}  # not asked for
    for name in ("fid", "kid", "lpips_likeness", "lpips_diversity"):
        assert snapshot.figures[name]["value"] is None
        assert snapshot.figures[name]["unavailable"].startswith("unavailable:")
    assert snapshot.figures["identity_verification_rate"]["n"] == 10  # dlib weights are not these


def test_too_few_heldout_people_is_refused(corpus_subjects, engineer, tmp_path):
    from generation.generator.services import generator_version_register

    small = generator_version_register(name="tiny-few", files_dir=tiny_generator(tmp_path / "few"),
                                       heldout=corpus_subjects[:3])
    with pytest.raises(ApplicationError, match="at least 4 held-out people"):
        metric_snapshot_start(generator_version=small, started_by=engineer, enqueue=False)
    assert not MetricSnapshot.objects.exists()


def test_candidates_out_of_range_is_refused(version, engineer):
    with pytest.raises(ApplicationError, match="candidates"):
        metric_snapshot_start(generator_version=version, started_by=engineer, candidates=0, enqueue=False)
