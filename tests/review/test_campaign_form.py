"""The campaign form picks the generation job and the subject from lists of what has headshots,
instead of ids typed by hand."""

from __future__ import annotations

import pytest
from django.utils import timezone

from generation.models import Subject
from review.models import Campaign

pytestmark = pytest.mark.django_db


def test_pickers_offer_only_what_has_headshots_and_narrow_the_campaign(review_world, client_for):
    world = review_world(subjects=2, per_subject=2, portraits=0)
    chosen = world.subjects[1]
    bare = Subject.objects.create(display_name="No headshots", owner=world.engineer,
                                  consent_given_at=timezone.now(), consent_version="test")
    client = client_for("ml_engineer")
    form = client.get("/review/campaigns/new/").content.decode()
    subject_select = form.split('name="subject"')[1].split("</select>")[0]
    assert f'value="{chosen.pk}">{chosen.display_name}</option>' in subject_select
    assert "No headshots" not in subject_select
    job = chosen.generation_jobs.get()
    job_select = form.split('name="generation_job"')[1].split("</select>")[0]
    assert f"#{job.pk} · {chosen.display_name} · {world.version.name} · " in job_select
    fields = {"name": "One person", "task_kinds": ["rating"], "pairing": "within_job", "overlap": "1",
              "allowed_roles": ["reviewer"], "gold_rate": "0", "lease_seconds": "600",
              "subject": str(chosen.pk), "anchor_1": "not usable"}
    assert client.post("/review/campaigns/new/", fields).status_code == 302
    campaign = Campaign.objects.get(name="One person")
    assert set(campaign.items.values_list("subject_id", flat=True)) == {chosen.pk}
    refused = client.post("/review/campaigns/new/", {**fields, "name": "Bare", "subject": str(bare.pk)})
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    assert not Campaign.objects.filter(name="Bare").exists()
