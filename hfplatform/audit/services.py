"""Writing the audit trail. Services call :func:`audit_record` in the same transaction as the change
they record, so a change that is rolled back leaves no row and a recorded change always has one."""

from __future__ import annotations

from typing import Any

from django.db import models

from hfplatform.audit.context import audit_actor, audit_address
from hfplatform.audit.models import AuditEvent

#: The actions the trail records, with what they mean (the auditor page's filter lists them).
ACTIONS: dict[str, str] = {
    "login": "signed in",
    "login_failed": "failed sign-in",
    "role.change": "changed a user's role",
    "generator.activate": "made a generator version active",
    "generator.promote": "promoted a generator version through the gate",
    "reward_model.activate": "made a reward model active",
    "job.start": "started a job",
    "job.cancel": "cancelled a job",
    "campaign.create": "created a review campaign",
    "campaign.update": "changed a review campaign",
    "campaign.close": "closed a review campaign",
    "campaign.reopen": "reopened a review campaign",
    "campaign.delete": "deleted a review campaign",
    "export": "exported answers or figures",
    "subject.delete": "deleted a subject and all their data",
}


def _describe(target: Any) -> tuple[str, str]:
    if target is None:
        return "", ""
    if isinstance(target, models.Model):
        kind = target._meta.verbose_name
        return f"{kind} {target}"[:200], str(target.pk)
    return str(target)[:200], ""


def audit_record(*, action: str, target: Any = None, summary: str = "", detail: dict[str, Any] | None = None,
                 actor: Any = None, address: str | None = None) -> AuditEvent:
    """Append one row: ``action`` (one of ``ACTIONS``) by ``actor`` (default: the current request's
    user; none: the system) on ``target`` (a model row or words)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor = actor if actor is not None else audit_actor()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_text, target_id = _describe(target)
    return AuditEvent.objects.create(
        actor=actor, actor_name=actor.get_username() if actor is not None else "", action=action,
        target=target_text, target_id=target_id, summary=summary[:300], detail=detail or {},
        address=audit_address() if address is None else address[:64])
