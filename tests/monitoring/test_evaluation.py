"""The one held-out evaluation: the report and a snapshot of the same version, people and seeds give
the same images and print the same figures under the same names; seeds follow one rule."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.core.management import call_command

from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from monitoring.evaluation import candidate_seed, heldout_evaluation
from monitoring.services import metric_snapshot_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

SHARED_FIGURES = ("fid", "kid", "lpips_likeness", "lpips_diversity", "identity_distance",
                  "identity_verification_rate", "identity_distance_to_portrait",
                  "identity_verification_rate_to_portrait")


def test_report_and_snapshot_print_the_same_figures_under_the_same_names(version, engineer, capsys):
    call_command("generator_report", version=version.name, steps=2, seed=5, json=True)
    report = json.loads(capsys.readouterr().out)
    snapshot = metric_snapshot_start(generator_version=version, started_by=engineer, candidates=1, steps=2,
                                     seed=5, stages=False, enqueue=False)
    assert job_run(job_id=snapshot.job_id).status == JobStatus.SUCCEEDED
    snapshot.refresh_from_db()
    api = snapshot.figures
    generated = report["rows"]["generated"]
    assert set(SHARED_FIGURES) <= set(generated) & set(api)
    for name in SHARED_FIGURES:
        assert generated[name]["name"] == api[name]["name"] == name
        for key in ("value", "n", "interval", "extractor", "unavailable"):
            assert generated[name][key] == api[name][key], (name, key)
    assert generated["fid"]["value"] is not None  # real figures, not two equal "unavailable"s
    assert generated["lpips_likeness"]["value"] is not None
    # The snapshot's per-image rows carry the seeds the report used too.
    assert [row["seed"] for row in snapshot.per_image] == [
        candidate_seed(5, row["subject"], 0) for row in snapshot.per_image]
    assert report["seed_rule"] == "seed + subject id × 1000 + candidate"


def test_same_seeds_same_images_and_one_seed_rule(version):
    first = heldout_evaluation(version=version, people=4, candidates=2, steps=2, seed=3)
    again = heldout_evaluation(version=version, people=4, candidates=2, steps=2, seed=3)
    other = heldout_evaluation(version=version, people=4, candidates=2, steps=2, seed=4)
    for a, b in zip(first.candidates, again.candidates, strict=True):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(first.candidates[0][0], other.candidates[0][0])
    assert not np.array_equal(first.candidates[0][0], first.candidates[0][1])  # candidates differ
    assert first.settings["people"] == 4
    assert [(row["subject"], row["candidate"]) for row in first.per_image] == [
        (photo.subject_id, c) for photo in first.photos for c in range(2)]
    assert [row["seed"] for row in first.per_image] == [
        3 + row["subject"] * 1000 + row["candidate"] for row in first.per_image]
    assert first.rows["generated"]["lpips_diversity"]["n"] == 4  # one pair per person
    assert first.per_image == again.per_image


def test_people_are_the_versions_held_out_people_in_order(version, corpus_subjects):
    evaluation = heldout_evaluation(version=version, candidates=1, steps=1)
    assert [p.subject_id for p in evaluation.photos] == sorted(version.heldout_subjects)
    assert evaluation.settings["people"] == len(version.heldout_subjects) == 5
    assert "casual_input" not in evaluation.rows  # baselines only when asked for


@pytest.mark.parametrize(("options", "code"), [
    ({"candidates": 0}, "invalid_candidates"),
    ({"candidates": 17}, "invalid_candidates"),
    ({"steps": 1001}, "invalid_steps"),
    ({"guidance": 10.5}, "invalid_guidance"),
])
def test_bad_settings_are_refused_before_sampling(version, options, code):
    with pytest.raises(ApplicationError) as refused:
        heldout_evaluation(version=version, **options)
    assert refused.value.code == code


def test_too_few_held_out_people_is_refused(version):
    version.heldout_subjects = version.heldout_subjects[:3]
    version.save(update_fields=["heldout_subjects"])
    with pytest.raises(ApplicationError, match="at least 4 held-out people") as refused:
        heldout_evaluation(version=version)
    assert refused.value.code == "too_few_heldout"
