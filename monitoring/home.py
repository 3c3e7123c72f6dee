"""Home card of the monitoring app: the newest finished snapshot and the alerts it raised."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from hfplatform.accounts.roles import READERS, has_role
from hfplatform.home import Card, home_card
from monitoring.models import MetricSnapshot, SnapshotStatus


@home_card(order=30)
def newest_snapshot(user: Any) -> Card | None:
    if not has_role(user, READERS):
        return None
    links = [{"text": "Dashboard", "url": reverse("monitoring:home")}]
    snapshot = (MetricSnapshot.objects.filter(status=SnapshotStatus.DONE).select_related("generator_version")
                .order_by("-created_at", "-pk").first())
    if snapshot is None:
        return {"title": "Monitoring", "items": [], "links": links, "testid": "home-monitoring",
                "empty": "No finished snapshot yet: start one from the dashboard."}
    url = reverse("monitoring:snapshot", args=[snapshot.pk])
    alerts = snapshot.alerts or []
    items = [{"text": f"Snapshot #{snapshot.pk} of {snapshot.generator_version.name}", "url": url,
              "note": f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''}" if alerts else "no alert"}]
    items += [{"text": alert.get("message", alert.get("rule", "alert")), "url": url, "note": "alert"}
              for alert in alerts[:3]]
    return {"title": "Newest snapshot", "items": items, "links": links, "testid": "home-monitoring",
            "empty": ""}
