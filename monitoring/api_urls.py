"""API routes of the monitoring app, included under /api/ (namespace ``api``) by ``hfplatform.urls``."""

from django.urls import path

from monitoring import apis

urlpatterns = [
    path("monitoring/snapshots/", apis.SnapshotListApi.as_view(), name="monitoring-snapshots"),
    path("monitoring/snapshots/<int:snapshot_id>/", apis.SnapshotDetailApi.as_view(),
         name="monitoring-snapshot"),
]
