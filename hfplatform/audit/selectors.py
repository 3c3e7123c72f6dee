"""Reading the audit trail: filtered rows for the auditor page, its CSV and the API."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from hfplatform.audit.models import AuditEvent
from hfplatform.audit.services import ACTIONS
from hfplatform.errors import ApplicationError

CSV_COLUMNS = ("at", "actor", "action", "target", "target_id", "summary", "address", "detail")


def _day(value: str | date, label: str) -> date | None:
    if isinstance(value, date) or not value:
        return value or None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(f"{label} is a date like 2026-12-06, not {value!r}.", code="invalid",
                               extra={"fields": {label: ["A date YYYY-MM-DD."]}}) from None


def audit_events(*, action: str = "", actor: str = "", since: str | date = "", until: str | date = "",
                 target: str = "") -> QuerySet[AuditEvent]:
    """Rows newest first, filtered by action (one of ``ACTIONS``, or a prefix such as ``campaign``),
    actor (username, exact), target (words or key, contained) and days ``since``/``until``
    (inclusive, server time zone). A bad filter is a 400 naming the field."""
    rows = AuditEvent.objects.all()
    if action:
        if action not in ACTIONS and not any(name.startswith(action + ".") for name in ACTIONS):
            raise ApplicationError(f"Unknown action {action!r}.", code="invalid",
                                   extra={"fields": {"action": [f"One of: {', '.join(ACTIONS)}."]}})
        rows = (rows.filter(action=action) if action in ACTIONS
                else rows.filter(action__startswith=action + "."))
    if actor:
        rows = rows.filter(actor_name=actor) if actor != "system" else rows.filter(actor_name="")
    if target:
        rows = rows.filter(target__icontains=target) | rows.filter(target_id=target)
    zone = timezone.get_current_timezone()
    if (first := _day(since, "since")) is not None:
        rows = rows.filter(at__gte=datetime.combine(first, time.min, tzinfo=zone))
    if (last := _day(until, "until")) is not None:
        rows = rows.filter(at__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone))
    return rows.order_by("-at", "-id")


def audit_csv(rows: QuerySet[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows.iterator():
        writer.writerow([row.at.isoformat(), row.actor_name or "system", row.action, row.target,
                         row.target_id, row.summary, row.address, row.detail])
    return out.getvalue()
