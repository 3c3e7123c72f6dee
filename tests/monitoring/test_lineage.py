"""The lineage of a fine-tuned version: campaign answers → preference dataset → reward model → adapter →
version → snapshots → promotion decisions, oldest ancestor first, in the API and on the page, by role."""

from __future__ import annotations

import pytest

from hfplatform.accounts.roles import Role

pytestmark = pytest.mark.django_db
R, P, E, A, ADM = Role.REVIEWER, Role.PHOTOGRAPHER, Role.ML_ENGINEER, Role.AUDITOR, Role.ADMIN


@pytest.fixture
def chain(make_user):
    """An active version registered from files, and a DPO child of it with its dataset (from a
    campaign), reward model, fine-tuning row, a snapshot and a refused decision."""
    from generation.models import GeneratorVersion
    from hfplatform.jobs.services import job_create
    from monitoring.models import MetricSnapshot, PromotionDecision
    from review.models import Campaign
    from reward.models import GeneratorFineTuning, PreferenceDataset, RewardModelVersion

    engineer = make_user(Role.ML_ENGINEER, "eng-lineage")
    root = GeneratorVersion.objects.create(name="root-v", files_dir="/nonexistent", status="active",
                                           dataset_fingerprint="f" * 64)
    child = GeneratorVersion.objects.create(name="child-v", files_dir="/nonexistent", parent=root)
    campaign = Campaign.objects.create(name="Sharpness pairs", task_kinds=["pairwise"], created_by=engineer)
    dataset = PreferenceDataset.objects.create(name="ds-tune", campaigns=[campaign.pk], fingerprint="d" * 64,
                                               counts={"pairs": 42})
    reward = RewardModelVersion.objects.create(
        name="rm-tune", dataset=dataset, dataset_fingerprint=dataset.fingerprint, dimension="overall",
        status="candidate", metrics={"consensus": {"value": 0.81, "interval": [0.7, 0.9]}})
    GeneratorFineTuning.objects.create(
        name="child-v", parent=root, method="dpo", dataset=dataset, reward_model=reward, child=child,
        config={"lora": {"rank": 4, "alpha": 4.0, "dropout": 0.0, "include_convs": False},
                "hyper": {"beta": 2500.0}},
        adapter_dir="/var/x/adapter", started_by=engineer,
        job=job_create(kind="generator_finetune", started_by=engineer, enqueue=False))
    MetricSnapshot.objects.create(generator_version=child, status="done",
                                  figures={"kid": {"name": "kid", "value": 0.05}})
    PromotionDecision.objects.create(candidate=child, baseline=root, judge_name="rm-judge", outcome="refused",
                                     reasons=["Possible reward hacking: the judge does not improve."])
    return root, child


def test_the_chain_runs_from_the_oldest_version_to_the_decision(api_client_for, chain):
    response = api_client_for(E).get("/api/generator/versions/child-v/lineage/")
    assert response.status_code == 200
    root, child = response.json()
    assert (root["version"], root["made_by"]["kind"], root["parent"]) == ("root-v", "registered", None)
    assert child["parent"] == "root-v"
    made = child["made_by"]
    assert (made["kind"], made["method"], made["lora"]["rank"]) == ("fine-tune", "dpo", 4)
    assert [c["name"] for c in made["campaigns"]] == ["Sharpness pairs"]
    assert made["campaigns"][0]["answers"] == 0
    assert (made["dataset"]["name"], made["dataset"]["pairs"]) == ("ds-tune", 42)
    assert (made["reward_model"]["name"], made["reward_model"]["consensus_accuracy"]) == ("rm-tune", 0.81)
    assert made["started_by"] == "eng-lineage"
    assert child["snapshots"][0]["kid"]["value"] == 0.05
    assert child["decisions"][0]["outcome"] == "refused"
    assert "reward hacking" in child["decisions"][0]["reasons"][0]


@pytest.mark.parametrize("role", [R, P, E, A, ADM])
def test_the_lineage_page_and_api_by_role(client_for, api_client_for, chain, role):
    page = client_for(role).get("/monitoring/lineage/child-v/")
    api = api_client_for(role).get("/api/generator/versions/child-v/lineage/")
    if role in (R, P):
        assert page.status_code == 403
        assert api.status_code == 403
        return
    assert api.status_code == 200
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index('data-version="root-v"') < html.index('data-version="child-v"')
    for text in ("Sharpness pairs", "ds-tune", "rm-tune", "LoRA rank 4", "refused", "reward hacking"):
        assert text in html


def test_an_unknown_version_is_404(client_for, api_client_for):
    assert client_for(E).get("/monitoring/lineage/nope/").status_code == 404
    assert api_client_for(E).get("/api/generator/versions/nope/lineage/").status_code == 404


def test_the_version_page_shows_its_facts_configuration_and_grid(client_for, chain):
    from django.core.files.base import ContentFile

    _, child = chain
    child.training_config = {"steps": 400, "prediction_type": "epsilon", "loss_curve": [[1, 0.5], [2, 0.4]]}
    child.sample_grid.save("grid.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    html = client_for(A).get("/monitoring/lineage/child-v/").content.decode()
    facts = html.split('data-testid="version-facts"')[1].split("</section>")[0]
    assert '<a href="/monitoring/lineage/root-v/">root-v</a>' in facts
    config = facts.split('data-testid="version-config"')[1]
    assert "<dt>steps</dt><dd>400</dd>" in config
    assert "<dt>loss curve</dt><dd>2 values</dd>" in config
    assert 'src="/generator/child-v/grid.png"' in facts
    versions = client_for(E).get("/generator/").content.decode()
    assert '<a href="/monitoring/lineage/child-v/">child-v</a>' in versions
