"""API routes of the monitoring app, included under /api/ (namespace ``api``) by ``hfplatform.urls``."""

from django.urls import path

from monitoring import apis

urlpatterns = [
    path("monitoring/snapshots/", apis.SnapshotListApi.as_view(), name="monitoring-snapshots"),
    path("monitoring/snapshots/<int:snapshot_id>/", apis.SnapshotDetailApi.as_view(),
         name="monitoring-snapshot"),
    # The promotion gate of generator versions (under the generator's API, served by monitoring).
    path("generator/versions/<slug:name>/evaluations/", apis.GeneratorEvaluationApi.as_view(),
         name="generator-evaluations"),
    path("generator/versions/<slug:name>/decisions/", apis.GeneratorDecisionListApi.as_view(),
         name="generator-decisions"),
    path("generator/versions/<slug:name>/lineage/", apis.GeneratorLineageApi.as_view(),
         name="generator-lineage"),
    path("generator/versions/<slug:name>/comparison-campaigns/",
         apis.GeneratorComparisonCampaignApi.as_view(), name="generator-comparison-campaigns"),
    path("generator/versions/<slug:name>/promote/", apis.GeneratorPromoteApi.as_view(),
         name="generator-promote"),
]
