"""The monitoring API and pages: start (engineers only), read (engineers and auditors), charts, exports."""

from __future__ import annotations

import csv
import io

import pytest

from hfplatform.accounts.roles import Role
from monitoring.models import MetricSnapshot, SnapshotStatus

pytestmark = pytest.mark.django_db


def _figure(name, value, n=10, interval=(0.1, 0.3)):
    return {"name": name, "value": value, "n": n, "extractor": "test", "unavailable": None,
            "interval": list(interval) if interval else None}


@pytest.fixture
def done_snapshots():
    from generation.models import GeneratorVersion

    parent = GeneratorVersion.objects.create(name="v-one", files_dir="/nonexistent", status="active")
    child = GeneratorVersion.objects.create(name="v-two", files_dir="/nonexistent", parent=parent)
    fairness = {"skin_tone": {"identity_verified": {
        "name": "identity_verified", "higher_is_better": True,
        "overall": {"value": 0.7, "n": 40, "interval": [0.6, 0.8]},
        "groups": {"dark": {"value": 0.45, "n": 20, "interval": [0.25, 0.65], "small_n": False},
                   "light": {"value": 0.9, "n": 20, "interval": [0.75, 1.0], "small_n": False}},
        "difference": 0.45, "ratio": 0.5, "worst_group": "dark", "min_n": 5, "method": "m",
        "unavailable": None}}}
    one = MetricSnapshot.objects.create(
        generator_version=parent, status=SnapshotStatus.DONE,
        figures={"kid": _figure("kid", 0.02, interval=None), "fid": _figure("fid", 250.0, interval=None),
                 "lpips_likeness": _figure("lpips_likeness", 0.2)},
        human={"rating_appeal": _figure("rating_appeal", 3.5, interval=(3.0, 4.0))}, fairness=fairness)
    two = MetricSnapshot.objects.create(
        generator_version=child, status=SnapshotStatus.DONE,
        figures={"kid": _figure("kid", 0.05, interval=None),
                 "fid": {"name": "fid", "value": None, "n": 8, "extractor": "x",
                         "unavailable": "unavailable: Inception weights missing", "interval": None},
                 "lpips_likeness": _figure("lpips_likeness", 0.25)},
        fairness=fairness, alerts=[{"rule": "min_fairness_ratio", "message": "dark is behind", "value": 0.5,
                                    "threshold": 0.8}])
    return one, two


def test_engineer_starts_a_snapshot_and_gets_the_job(api_client_for, version):
    response = api_client_for(Role.ML_ENGINEER).post(
        "/api/monitoring/snapshots/", {"generator_version": version.name, "candidates": 3}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["job"]
    assert body["status"] == "pending"
    snapshot = MetricSnapshot.objects.get(pk=body["id"])
    assert snapshot.candidates == 3
    assert snapshot.job.started_by.username == body["started_by"]


def test_auditor_reads_but_cannot_start(api_client_for, done_snapshots):
    auditor = api_client_for(Role.AUDITOR)
    response = auditor.post("/api/monitoring/snapshots/", {"generator_version": "v-one"}, format="json")
    assert response.status_code == 403
    assert auditor.get("/api/monitoring/snapshots/").json()[0]["generator_version"] == "v-two"
    detail = auditor.get(f"/api/monitoring/snapshots/{done_snapshots[1].pk}/").json()
    assert detail["fairness"]["skin_tone"]["identity_verified"]["worst_group"] == "dark"
    assert detail["alerts"][0]["rule"] == "min_fairness_ratio"
    assert detail["lineage"]["parent"] == "v-one"


def test_too_few_heldout_is_a_clear_400(api_client_for, done_snapshots):
    response = api_client_for(Role.ML_ENGINEER).post("/api/monitoring/snapshots/",
                                                     {"generator_version": "v-one"}, format="json")
    assert response.status_code == 400
    assert "at least 4 held-out people" in response.json()["detail"]


def test_dashboard_has_charts_and_form_only_for_engineers(client_for, done_snapshots, make_user):
    auditor_page = client_for(Role.AUDITOR).get("/monitoring/").content.decode()
    assert 'data-testid="trend-kid"' in auditor_page
    assert 'data-testid="fairness-skin_tone-identity_verified"' in auditor_page
    assert "worst group: <strong>dark</strong>" in auditor_page
    assert "unavailable: Inception weights missing" in auditor_page  # never a number
    assert "dark is behind" in auditor_page
    assert 'data-testid="snapshot-form"' not in auditor_page
    from django.test import Client

    engineer = Client()
    engineer.force_login(make_user(Role.ML_ENGINEER))
    assert 'data-testid="snapshot-form"' in engineer.get("/monitoring/").content.decode()


def test_detail_compare_report_and_exports(client_for, done_snapshots):
    one, two = done_snapshots
    client = client_for(Role.AUDITOR)
    detail = client.get(f"/monitoring/snapshots/{two.pk}/").content.decode()
    assert 'data-testid="lineage"' in detail
    assert "v-one" in detail  # the parent
    compare = client.get(f"/monitoring/compare/?a={one.pk}&b={two.pk}").content.decode()
    assert 'data-testid="compare-kid"' in compare
    assert "0.0300" in compare  # B - A for KID
    report = client.get("/monitoring/report/").content.decode()
    assert report.count('data-testid="report-page"') == 2
    assert "bootstrap" in report
    rows = list(csv.DictReader(io.StringIO(client.get(f"/monitoring/snapshots/{two.pk}/export.csv")
                                           .content.decode())))
    fid = next(r for r in rows if r["metric"] == "fid")
    assert fid["value"] == ""
    assert fid["unavailable"].startswith("unavailable:")
    dark = next(r for r in rows if r["group"] == "dark")
    assert float(dark["value"]) == pytest.approx(0.45)
    assert dark["n"] == "20"
    data = client.get(f"/monitoring/snapshots/{two.pk}/export.json").json()
    assert data["fairness"]["skin_tone"]["identity_verified"]["ratio"] == 0.5
    assert "method" in data
    assert "limits" in data
    assert client.get(f"/monitoring/snapshots/{two.pk}/export.xml").status_code == 404


def test_engineer_form_start_redirects_to_the_job(client_for, version):
    response = client_for(Role.ML_ENGINEER).post("/monitoring/snapshots/", {
        "generator_version": version.name, "candidates": 2, "steps": 2})
    assert response.status_code == 302
    snapshot = MetricSnapshot.objects.get()
    assert response["Location"].endswith(f"/jobs/{snapshot.job_id}/")


def test_the_snapshot_form_picks_the_reward_model_from_a_list(client_for, version):
    from reward.models import PreferenceDataset, RewardModelVersion

    dataset = PreferenceDataset.objects.create(name="d", fingerprint="f")
    for name, status in (("rm-ready", "candidate"), ("rm-broken", "failed")):
        RewardModelVersion.objects.create(name=name, dataset=dataset, dimension="appeal", status=status)
    engineer = client_for(Role.ML_ENGINEER)
    page = engineer.get("/monitoring/").content.decode()
    picker = page.split('name="reward_model"')[1].split("</select>")[0]
    assert '<option value="rm-ready">rm-ready (candidate, appeal)</option>' in picker
    assert "rm-broken" not in picker
    refused = engineer.post("/monitoring/snapshots/", {"generator_version": version.name, "candidates": 2,
                                                        "steps": 2, "reward_model": "rm-broken"})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert not MetricSnapshot.objects.exists()
