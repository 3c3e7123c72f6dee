"""Campaign pairing across jobs and generator versions, and whether a campaign's pairs carry signal:
candidate diversity (mean LPIPS per pair, cached) and the share of "can't tell" answers."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from generation.models import GenerationJob, GeneratorStatus, GeneratorVersion, Headshot
from hfplatform.demo import portrait_sketch
from hfplatform.errors import ApplicationError
from hfplatform.imaging import stored_rgb
from hfplatform.jobs.models import Job
from review.models import Campaign, Comparison, ReviewItem
from review.options import PAIR_DIVERSITY_WARNING
from review.quality import pair_signal
from review.services import (
    assignment_next,
    campaign_create,
    campaign_diversity_measure,
    comparison_submit,
)

pytestmark = pytest.mark.django_db


def _png(image: Image.Image) -> ContentFile:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG")
    return ContentFile(out.getvalue())


def _another_version(world, name: str, per_subject: int = 2, unkept: int = 1) -> GeneratorVersion:
    """A second generator version with ``per_subject`` kept (and ``unkept`` not kept) headshots of each
    of the world's people, at another guidance and with eta."""
    version = GeneratorVersion.objects.create(name=name, files_dir="/nonexistent", image_size=64,
                                              status=GeneratorStatus.CANDIDATE)
    for s, subject in enumerate(world.subjects):
        first = world.by_subject[subject.pk][0]
        job = Job.objects.create(kind="generation", status="succeeded", started_by=world.engineer)
        request = GenerationJob.objects.create(
            subject=subject, source_photo=first.source_photo, generator_version=version,
            candidates=per_subject + unkept, seed=s, steps=5, guidance=2.0, guidance_max=3.0, eta=0.5,
            job=job)
        for c in range(per_subject + unkept):
            head = Headshot(generation_job=request, subject=subject, source_photo=first.source_photo,
                            generator_version=version, candidate_index=c, seed=700 + 10 * s + c, steps=5,
                            guidance=2.0 + c / 2, sampler="ddim", eta=0.5, kept=c < per_subject)
            head.image.save(f"{name}-{s}-{c}.png", _png(portrait_sketch(700 + 10 * s + c, 64)), save=False)
            head.save()
    return version


def _pairs(campaign) -> list[tuple[Headshot, Headshot]]:
    items = (ReviewItem.objects.filter(campaign=campaign, kind="pairwise", is_gold=False)
             .select_related("headshot", "headshot_b").order_by("pk"))
    return [(i.headshot, i.headshot_b) for i in items]


def _create(world, versions, **options) -> Campaign:
    options.setdefault("gold_rate", 0.0)
    return campaign_create(created_by=world.engineer, name="Pairs", task_kinds=["pairwise"],
                           generator_versions=versions, **options)


def test_across_versions_pairs_one_person_from_two_versions(review_world):
    world = review_world(subjects=3, per_subject=3, portraits=0)
    other = _another_version(world, "v-other")
    campaign = _create(world, [world.version, other], pairing="across_versions", pairs_per_job=4, seed=3)
    assert campaign.pairing == "across_versions"
    assert campaign.selection["generator_versions"] == sorted([world.version.name, other.name])
    pairs = _pairs(campaign)
    assert len(pairs) == 3 * 4  # 3 × 2 = 6 cross-version pairs per person, 4 kept
    for a, b in pairs:
        assert a.subject_id == b.subject_id  # never two different people
        assert {a.generator_version_id, b.generator_version_id} == {world.version.pk, other.pk}
        assert a.kept
        assert b.kept
    again = _create(world, [world.version, other], pairing="across_versions", pairs_per_job=4, seed=3)
    assert [(a.pk, b.pk) for a, b in _pairs(again)] == [(a.pk, b.pk) for a, b in pairs]  # seeded


def test_within_job_stays_the_default_and_any_mixes_jobs_and_settings(review_world):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    other = _another_version(world, "v-any")
    within = _create(world, [world.version, other])
    assert within.pairing == "within_job"
    assert all(a.generation_job_id == b.generation_job_id for a, b in _pairs(within))
    anything = _create(world, [world.version, other], pairing="any", pairs_per_job=10)
    pairs = _pairs(anything)
    assert len(pairs) == 2 * 10  # C(5, 2) = 10 pairs of each person's five kept headshots
    assert all(a.subject_id == b.subject_id and a.kept and b.kept for a, b in pairs)
    assert any(a.generation_job_id != b.generation_job_id for a, b in pairs)
    assert any(a.generation_job_id == b.generation_job_id for a, b in pairs)
    few = _create(world, [world.version, other], pairing="any", pairs_per_job=3)
    # the pairs that differ in the most settings come first
    assert all(a.generator_version_id != b.generator_version_id for a, b in _pairs(few))


def test_pairing_errors(review_world):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    with pytest.raises(ApplicationError) as caught:  # one version: nothing to pair across
        _create(world, [world.version], pairing="across_versions")
    assert caught.value.code == "no_pairs"
    with pytest.raises(ApplicationError) as caught:
        _create(world, [world.version], pairing="sideways")
    assert "pairing" in caught.value.extra["fields"]
    heads = world.headshots
    with pytest.raises(ApplicationError) as caught:
        _create(world, [world.version], pairing="any", pairs=[[heads[0].pk, heads[1].pk]])
    assert "pairing" in caught.value.extra["fields"]
    assert not Campaign.objects.exists()


def test_pairing_over_the_api(review_world, api_client_for):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    other = _another_version(world, "v-api")
    client = api_client_for("ml_engineer")
    body = {"name": "Across", "task_kinds": ["pairwise"], "gold_rate": 0, "pairing": "across_versions",
            "generator_versions": [world.version.name, other.name]}
    response = client.post("/api/review/campaigns/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["pairing"] == "across_versions"
    refused = client.post("/api/review/campaigns/", {**body, "pairing": "nope"}, format="json")
    assert refused.status_code == 400
    assert "pairing" in refused.json()["detail"]
    missing = client.post("/api/review/campaigns/", {**body, "generator_versions": ["v-none"]}, format="json")
    assert missing.status_code == 404  # it names a version that does not exist
    assert "v-none" in missing.json()["detail"]


def test_diversity_is_the_mean_lpips_of_the_pairs_measured_once(review_world, lpips_metric):
    world = review_world(subjects=2, per_subject=3, portraits=0)
    campaign = _create(world, [world.version], pairs_per_job=2, seed=1)
    pairs = _pairs(campaign)
    expected = lpips_metric.lpips_images([stored_rgb(a.image.name) for a, _ in pairs],
                                         [stored_rgb(b.image.name) for _, b in pairs])
    figure = campaign_diversity_measure(campaign=campaign, metric=lpips_metric)
    assert figure["value"] == pytest.approx(float(np.mean(expected)), abs=1e-6)
    assert figure["n"] == len(pairs) == 4
    assert figure["extractor"] == lpips_metric.name
    assert "lpips" in figure["extractor"]
    low, high = figure["interval"]
    assert low <= figure["value"] <= high
    stored = Campaign.objects.get(pk=campaign.pk)
    assert stored.pair_diversity["value"] == figure["value"]
    assert campaign_diversity_measure(campaign=stored, metric=lpips_metric) == stored.pair_diversity  # cached
    pairs[0][1].delete()  # its items go with it: measured again on what is left
    stored = Campaign.objects.get(pk=campaign.pk)
    again = campaign_diversity_measure(campaign=stored, metric=lpips_metric)
    assert again["n"] == ReviewItem.objects.filter(campaign=campaign, kind="pairwise").count() < 4


def _answer_all(campaign, reviewer, choices: list[str]) -> None:
    """Answer the items in the order handed out: gold items "tie", regular ones from ``choices``."""
    regular = iter(choices)
    while (assignment := assignment_next(campaign=campaign, reviewer=reviewer)) is not None:
        if assignment.item.is_gold:
            choice = "tie"
        else:
            choice = next(regular, None)
            if choice is None:
                return
        comparison_submit(reviewer=reviewer, assignment_id=assignment.pk, choice=choice)


def test_tie_share_and_its_warning_count_regular_answers_only(review_world, make_user):
    world = review_world(subjects=3, per_subject=4, portraits=0)
    campaign = _create(world, [world.version], overlap=1, gold_rate=0.2)
    reviewer = make_user("reviewer")
    _answer_all(campaign, reviewer, ["tie"] * 4 + ["left"] * 3 + ["right"] * 3)
    assert Comparison.objects.filter(campaign=campaign, item__is_gold=True).exists()  # gold "tie"s left out
    signal = pair_signal(campaign)
    assert (signal["tie_share"]["ties"], signal["tie_share"]["n"]) == (4, 10)
    assert signal["tie_share"]["share"] == pytest.approx(0.4)
    assert signal["tie_share"]["low"] < 0.4 < signal["tie_share"]["high"]
    assert signal["warnings"] == [
        'Pairs are too alike to teach: 40% of 10 pairwise answers are "can\'t tell" (at least 40%).']
    assert signal["diversity"] is None  # not measured yet


def test_few_ties_no_warning(review_world, make_user):
    world = review_world(subjects=3, per_subject=4, portraits=0)
    campaign = _create(world, [world.version], overlap=1)
    _answer_all(campaign, make_user("reviewer"), ["tie"] * 3 + ["left"] * 9)
    signal = pair_signal(campaign)
    assert (signal["tie_share"]["ties"], signal["tie_share"]["n"], signal["warnings"]) == (3, 12, [])


def test_near_copies_warn_on_the_page_and_in_the_api(review_world, api_client_for, client_for, weights):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    first = world.headshots[0]
    twin = Headshot(generation_job=first.generation_job, subject=first.subject,
                    source_photo=first.source_photo, generator_version=first.generator_version,
                    candidate_index=9, seed=first.seed, steps=5, guidance=1.0, sampler="ddim")
    twin.image.save("twin.png", ContentFile(first.image.open("rb").read()), save=False)
    twin.save()
    campaign = campaign_create(created_by=world.engineer, name="Twins", task_kinds=["pairwise"],
                               gold_rate=0.0, pairs=[[first.pk, twin.pk]], allowed_roles=["reviewer"])
    body = api_client_for("ml_engineer").get(f"/api/review/campaigns/{campaign.pk}/").json()
    signal = body["signal"]
    assert signal["diversity"]["value"] == pytest.approx(0.0, abs=1e-6)
    assert signal["diversity"]["n"] == 1
    assert "lpips" in signal["diversity"]["extractor"]
    assert len(signal["warnings"]) == 1
    assert f"below {PAIR_DIVERSITY_WARNING}" in signal["warnings"][0]
    assert signal["tie_share"] == {"ties": 0, "n": 0, "share": None, "low": None, "high": None, "level": 0.95}
    assert api_client_for("reviewer").get(f"/api/review/campaigns/{campaign.pk}/").json()["signal"] is None
    page = client_for("auditor").get(f"/review/campaigns/{campaign.pk}/agreement/")
    assert page.status_code == 200
    assert b'data-testid="signal-warning"' in page.content
    assert b"Pairs are too alike to teach" in page.content
    assert b"0.000 mean LPIPS" in page.content


def test_the_campaign_form_takes_pairing_and_versions(review_world, client_for):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    other = _another_version(world, "v-form")
    page = client_for("ml_engineer")
    form = {"name": "Form pairs", "task_kinds": ["pairwise"],
            "generator_versions": [world.version.name, other.name], "pairing": "across_versions",
            "overlap": "1", "allowed_roles": ["reviewer"], "gold_rate": "0", "lease_seconds": "600"}
    response = page.post("/review/campaigns/new/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get(name="Form pairs")
    assert campaign.pairing == "across_versions"
    assert all(a.generator_version_id != b.generator_version_id for a, b in _pairs(campaign))
