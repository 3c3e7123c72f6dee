"""Monitoring API routes, included under /api/ by hfplatform.urls (api_patterns)."""

from django.urls import path

from monitoring import apis

api_urlpatterns = [
    path("monitoring/snapshots/", apis.SnapshotListApi.as_view(), name="monitoring-snapshots"),
    path("monitoring/snapshots/<int:snapshot_id>/", apis.SnapshotDetailApi.as_view(),
         name="monitoring-snapshot"),
]
