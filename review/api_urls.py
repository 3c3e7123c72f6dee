"""API routes of the review app, included under /api/ (namespace ``api``) by ``hfplatform.urls``."""

from django.urls import path

from review import apis, quality_views

urlpatterns = [
    path("review/campaigns/", apis.CampaignListApi.as_view(), name="review-campaigns"),
    path("review/campaigns/<int:campaign_id>/", apis.CampaignDetailApi.as_view(), name="review-campaign"),
    path("review/campaigns/<int:campaign_id>/agreement/", quality_views.CampaignAgreementApi.as_view(),
         name="review-agreement"),
    path("review/campaigns/<int:campaign_id>/verdict/", quality_views.CampaignVerdictApi.as_view(),
         name="review-verdict"),
    path("review/campaigns/<int:campaign_id>/reviewers/", quality_views.CampaignReviewersApi.as_view(),
         name="review-reviewers"),
    path("review/campaigns/<int:campaign_id>/export/", quality_views.CampaignExportApi.as_view(),
         name="review-export"),
    path("review/stage-comparisons/", apis.StageComparisonApi.as_view(), name="review-stage-comparisons"),
    path("review/next/", apis.NextItemApi.as_view(), name="review-next"),
    path("review/ratings/", apis.RatingCreateApi.as_view(), name="review-ratings"),
    path("review/comparisons/", apis.ComparisonCreateApi.as_view(), name="review-comparisons"),
    path("review/blind/", apis.BlindCreateApi.as_view(), name="review-blind"),
    path("review/skips/", apis.SkipApi.as_view(), name="review-skips"),
    path("review/undo/", apis.UndoApi.as_view(), name="review-undo"),
    path("review/campaigns/<int:campaign_id>/standing/", apis.StandingApi.as_view(), name="review-standing"),
]
