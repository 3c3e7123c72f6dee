"""The promotion gate on real tiny generators: both versions evaluated on the same people with the same
seeds, paired figures with paired-bootstrap intervals, the judge and the guards deciding, reward hacking
named, and promotion only through a passed decision (or an admin's written override).

The generators are untrained; what differs between them is known: a candidate's output raised by a
shift is brighter, and the judges score mean luminance (``tests/factories/promotion.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from generation.generator.services import generator_version_activate
from generation.models import GeneratorVersion
from generation.models.generator import GeneratorActivation
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from monitoring.evaluation import candidate_seed
from monitoring.models import PromotionDecision
from monitoring.promotion import generator_version_promote, promotion_gate_start

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _gate(candidate, judge, engineer, **options) -> PromotionDecision:
    job = promotion_gate_start(candidate=candidate, judge=judge, started_by=engineer, steps=2, enqueue=False,
                               **options)
    done = job_run(job_id=job.pk)
    assert done.status == JobStatus.SUCCEEDED, done.error
    return PromotionDecision.objects.get(job=done)


def test_a_brighter_candidate_judged_by_brightness_passes_and_is_promoted(
        make_candidate, make_reward_model, engineer, gate_baseline, corpus_subjects, api_client_for,
        client_for):
    candidate = make_candidate()
    decision = _gate(candidate, make_reward_model("rm-judge"), engineer)
    assert decision.outcome == "passed", decision.reasons
    assert decision.reasons == []
    assert decision.baseline == gate_baseline
    assert decision.evaluated_by == engineer
    # The same five people (the candidate inherits its parent's held-out people), the same seeds.
    people = [s.pk for s in corpus_subjects[:5]]
    assert decision.gate_settings["subjects"] == people
    assert [row["subject"] for row in decision.per_person] == people
    for row in decision.per_person:
        assert row["seeds"] == [candidate_seed(0, row["subject"], c) for c in range(2)]
        assert len(row["baseline"]) == len(row["candidate"]) == 2
        paths = [row["input"], *row["baseline"], *row["candidate"]]
        assert all(default_storage.exists(path) for path in paths)
    # Every paired figure: its difference is candidate − baseline over the same n people, inside its interval.
    for name in ("judge_reward", "lpips_likeness", "identity_verification_rate",
                 "identity_verification_rate_to_portrait"):
        figure = decision.figures[name]
        assert figure["n"] == 5, name
        assert np.isclose(figure["difference"], figure["candidate"] - figure["baseline"]), name
        low, high = figure["interval"]
        assert low - 1e-12 <= figure["difference"] <= high + 1e-12, name
    judge = decision.figures["judge_reward"]
    assert judge["interval"][0] > 0
    assert judge["verdict"] == "pass"
    per_person = [row["judge"]["candidate"] - row["judge"]["baseline"] for row in decision.per_person]
    assert np.isclose(np.mean(per_person), judge["difference"])
    kid = decision.figures["kid"]  # set-level point values; the interval resamples the same people
    low, high = kid["interval"]
    assert low <= high
    assert "paired bootstrap over the people" in kid["note"]
    assert kid["verdict"] == "pass"
    fairness = decision.figures["fairness_skin_tone_identity_verified"]
    assert fairness["verdict"] in ("pass", "not compared")
    # Promoted through the API: recorded as an activation of the generator.
    response = api_client_for("ml_engineer").post(f"/api/generator/versions/{candidate.name}/promote/", {},
                                                  format="json")
    assert response.status_code == 200, response.json()
    candidate.refresh_from_db()
    assert candidate.status == "active"
    activation = GeneratorActivation.objects.first()
    assert (activation.activated, activation.retired) == (candidate, gate_baseline)
    decision.refresh_from_db()
    assert decision.promoted
    assert decision.override_reason == ""
    # The comparison page shows both versions' images, person by person.
    page = client_for("auditor").get(f"/monitoring/promotions/{decision.pk}/")
    assert page.status_code == 200
    assert page.content.decode().count(f"/monitoring/promotions/{decision.pk}/people/") == 5 * (1 + 2 + 2)


def test_a_reward_hacked_candidate_is_refused_with_that_reason_then_an_admin_overrides(
        make_candidate, make_reward_model, engineer, make_user, capsys):
    # Trained against brightness, which rises; the judge (an independent model) sees nothing better.
    make_reward_model("rm-train")
    make_reward_model("rm-flat", weight=0.0)
    candidate = make_candidate(training_reward="rm-train")
    with pytest.raises(CommandError, match="Refused by the promotion gate"):
        call_command("promote_generator", candidate.name, "--judge", "rm-flat", "--steps", "2")
    out = capsys.readouterr().out
    assert "Decision: REFUSED" in out
    assert "Judge reward (rm-flat)" in out
    assert "Training reward (rm-train)" in out
    assert "Possible reward hacking" in out
    decision = PromotionDecision.objects.get()
    assert decision.training_reward_model == "rm-train"
    assert decision.figures["training_reward"]["interval"][0] > 0
    assert decision.figures["judge_reward"]["interval"] == [0.0, 0.0]
    assert any(r.startswith("Possible reward hacking") for r in decision.reasons)
    assert candidate.status == "candidate"
    admin = make_user("admin")
    promoted = generator_version_promote(candidate=candidate, by=admin,
                                         override_reason="Reviewers preferred it in a blind test.")
    assert promoted.pk == decision.pk
    assert promoted.override_reason == "Reviewers preferred it in a blind test."
    assert promoted.decided_by == admin
    assert GeneratorVersion.objects.get(pk=candidate.pk).status == "active"


def test_a_candidate_worse_on_a_guard_is_refused_with_that_reason(
        make_candidate, make_reward_model, engineer):
    # The active version paints flat white; the candidate's noise is darker (the judge prefers dark) but
    # much further from the held-out portraits: KID rises far beyond its 10% tolerance.
    white = make_candidate("gate-white", shift=2.0)
    generator_version_activate(version=white)
    candidate = make_candidate("gate-noisy", shift=0.0)
    decision = _gate(candidate, make_reward_model("rm-dark", weight=-1.0), engineer)
    assert decision.baseline == white
    assert decision.figures["judge_reward"]["verdict"] == "pass"
    kid = decision.figures["kid"]
    assert kid["verdict"] == "fail"
    assert kid["candidate"] > 1.1 * kid["baseline"]
    assert decision.outcome == "refused"
    assert any(r.startswith("KID (vs held-out portraits) is worse than the active version's") for r in
               decision.reasons)
    with pytest.raises(Exception, match="refused") as refused:
        generator_version_promote(candidate=candidate, by=engineer)
    assert refused.value.status_code == 409
    assert refused.value.extra["reasons"] == decision.reasons
