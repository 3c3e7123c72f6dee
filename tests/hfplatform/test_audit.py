"""The audit trail: every change that matters leaves one row with who, what and from where, in the
same transaction as the change; rows cannot be changed or deleted; auditors read, filter and export
them; nobody else does."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from hfplatform.accounts.roles import Role
from hfplatform.audit.models import AppendOnly, AuditEvent
from hfplatform.audit.services import audit_record
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db


def _rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_changes_through_the_pages_and_the_api_are_recorded_with_who_and_where(
        review_world, make_campaign, client_for, api_client_for):
    world = review_world(subjects=1, per_subject=2, portraits=0)
    engineer = client_for(Role.ML_ENGINEER)
    engineer_name = engineer.user.username
    campaign = make_campaign(world, task_kinds=["rating"], overlap=1)
    assert _rows("campaign.create")[-1].target_id == str(campaign.pk)
    engineer.post(f"/review/campaigns/{campaign.pk}/status/", {"status": "closed"}, REMOTE_ADDR="10.1.2.3")
    closed = _rows("campaign.close")[-1]
    assert (closed.actor_name, closed.address) == (engineer_name, "10.1.2.3")
    assert closed.target_id == str(campaign.pk)
    engineer.get(f"/review/campaigns/{campaign.pk}/export/ratings.csv")
    export = _rows("export")[-1]
    assert export.detail == {"kind": "ratings", "format": "csv"}
    assert export.actor_name == engineer_name
    api = api_client_for(Role.ML_ENGINEER)
    started = api.post("/api/jobs/thumbnails/", {"folder": "x", "size": 64}, format="json")
    assert started.status_code == 400
    assert not _rows("job.start")


def test_activation_subject_deletion_roles_and_jobs(review_world, make_user):
    from generation.faces.services import subject_delete
    from generation.generator.services import generator_version_activate
    from hfplatform.accounts.services import user_set_role
    from hfplatform.jobs.services import job_cancel, job_create

    world = review_world(subjects=1, per_subject=1, portraits=0)
    admin = make_user(Role.ADMIN)
    generator_version_activate(version=world.version, activated_by=admin)
    row = _rows("generator.activate")[-1]
    assert (row.actor_name, row.target_id) == (admin.username, str(world.version.pk))
    person = make_user(Role.REVIEWER)
    user_set_role(user=person, role=Role.AUDITOR)
    assert _rows("role.change")[-1].detail == {"before": ["reviewer"], "after": "auditor"}
    job = job_create(kind="thumbnails", started_by=world.engineer, params={"folder": "x", "size": 64},
                     enqueue=False)
    assert _rows("job.start")[-1].target_id == str(job.pk)
    job_cancel(job=job, by=world.engineer)
    assert _rows("job.cancel")[-1].actor_name == world.engineer.username
    subject = world.subjects[0]
    subject_id = subject.pk
    subject_delete(subject=subject)
    deleted = _rows("subject.delete")[-1]
    assert deleted.target_id == str(subject_id)
    assert deleted.actor_name == ""  # outside a request and not named: the system


def test_sign_ins_and_failures_are_recorded(make_user):
    user = make_user(Role.REVIEWER)
    client = APIClient(REMOTE_ADDR="10.9.9.9")
    client.post("/api/auth/token/", {"username": user.username, "password": "nope"}, format="json")
    failed = _rows("login_failed")[-1]
    assert (failed.detail, failed.address) == ({"username": user.username}, "10.9.9.9")
    client.post("/api/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert _rows("login")[-1].detail == {"via": "token"}
    from django.test import Client

    Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert _rows("login")[-1].actor_name == user.username


def test_rows_are_append_only():
    row = audit_record(action="export", target="a test", summary="x", actor=None, address="")
    row.summary = "changed"
    with pytest.raises(AppendOnly):
        row.save()
    with pytest.raises(AppendOnly):
        row.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=row.pk).update(summary="changed")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=row.pk).delete()
    assert AuditEvent.objects.get(pk=row.pk).summary == "x"
    with pytest.raises(ValueError, match="unknown audit action"):
        audit_record(action="coffee")


def test_the_auditor_page_filters_pages_and_exports(client_for, api_client_for, make_user):
    someone = make_user(Role.ML_ENGINEER)
    for i in range(3):
        audit_record(action="export", target=f"campaign {i}", summary=f"export {i}", actor=someone,
                     address="")
    audit_record(action="campaign.close", target="campaign 9", summary="closed campaign 9", address="")
    auditor = client_for(Role.AUDITOR)
    page = auditor.get("/audit/?action=export").content.decode()
    assert "3 events" in page
    assert "export 2" in page
    assert "closed campaign 9" not in page
    assert "1 event" in auditor.get("/audit/?actor=system&action=campaign").content.decode()
    today = timezone.localdate().isoformat()
    assert "0 events" in auditor.get("/audit/?until=2000-01-01").content.decode()
    bad = auditor.get("/audit/?since=yesterday")
    assert bad.status_code == 400
    assert "since is a date like" in bad.content.decode()
    exported = auditor.get(f"/audit/export.csv?action=export&since={today}")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert [r["summary"] for r in rows] == ["export 2", "export 1", "export 0"]
    assert {r["actor"] for r in rows} == {someone.username}
    api = api_client_for(Role.AUDITOR).get("/api/audit/?action=campaign.close").json()
    assert api["count"] == 1
    assert api["results"][0]["summary"] == "closed campaign 9"
    assert client_for(Role.ML_ENGINEER).get("/audit/").status_code == 403
