"""URLs: pages at the top, the v1 API under /api/ (every route is in the OpenAPI schema)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from generation import apis as generation_apis
from generation import generator_apis
from hfplatform import views as platform_views
from hfplatform.accounts import apis as account_apis
from hfplatform.accounts import views as account_views
from hfplatform.accounts.urls import auth_urlpatterns
from hfplatform.jobs import apis as job_apis
from monitoring.api_urls import api_urlpatterns as monitoring_api_urlpatterns
from review import apis as review_apis
from review import quality_views as review_quality_views
from reward import apis as reward_apis

api_patterns = [
    path("auth/token/", account_apis.TokenObtainApi.as_view(), name="token"),
    path("me/", account_apis.MeApi.as_view(), name="me"),
    path("jobs/", job_apis.JobListApi.as_view(), name="jobs"),
    path("jobs/thumbnails/", job_apis.ThumbnailsJobStartApi.as_view(), name="jobs-thumbnails"),
    path("jobs/<int:job_id>/", job_apis.JobDetailApi.as_view(), name="job"),
    path("jobs/<int:job_id>/cancel/", job_apis.JobCancelApi.as_view(), name="job-cancel"),
    path("subjects/", generation_apis.SubjectListApi.as_view(), name="subjects"),
    path("subjects/<int:subject_id>/", generation_apis.SubjectDetailApi.as_view(), name="subject"),
    path("subjects/<int:subject_id>/photos/", generation_apis.SubjectPhotosApi.as_view(),
         name="subject-photos"),
    path("photos/<int:photo_id>/", generation_apis.PhotoDetailApi.as_view(), name="photo"),
    path("generation/jobs/", generator_apis.GenerationJobListApi.as_view(), name="generation-jobs"),
    path("generation/jobs/<int:generation_id>/", generator_apis.GenerationJobDetailApi.as_view(),
         name="generation-job"),
    path("headshots/<int:headshot_id>/", generator_apis.HeadshotDetailApi.as_view(), name="headshot"),
    path("generator/versions/", generator_apis.GeneratorVersionListApi.as_view(),
         name="generator-versions"),
    path("generator/versions/<slug:name>/activate/", generator_apis.GeneratorVersionActivateApi.as_view(),
         name="generator-activate"),
    path("generator/trainings/", generator_apis.GeneratorTrainingApi.as_view(), name="generator-trainings"),
    path("review/campaigns/", review_apis.CampaignListApi.as_view(), name="review-campaigns"),
    path("review/campaigns/<int:campaign_id>/", review_apis.CampaignDetailApi.as_view(),
         name="review-campaign"),
    path("review/campaigns/<int:campaign_id>/agreement/", review_quality_views.CampaignAgreementApi.as_view(),
         name="review-agreement"),
    path("review/campaigns/<int:campaign_id>/reviewers/", review_quality_views.CampaignReviewersApi.as_view(),
         name="review-reviewers"),
    path("review/campaigns/<int:campaign_id>/export/", review_quality_views.CampaignExportApi.as_view(),
         name="review-export"),
    path("review/next/", review_apis.NextItemApi.as_view(), name="review-next"),
    path("review/ratings/", review_apis.RatingCreateApi.as_view(), name="review-ratings"),
    path("review/comparisons/", review_apis.ComparisonCreateApi.as_view(), name="review-comparisons"),
    path("review/blind/", review_apis.BlindCreateApi.as_view(), name="review-blind"),
    path("reward/datasets/", reward_apis.PreferenceDatasetListApi.as_view(), name="reward-datasets"),
    path("reward/datasets/<int:dataset_id>/", reward_apis.PreferenceDatasetDetailApi.as_view(),
         name="reward-dataset"),
    path("reward/trainings/", reward_apis.RewardTrainingApi.as_view(), name="reward-trainings"),
    path("reward/models/", reward_apis.RewardModelListApi.as_view(), name="reward-models"),
    path("reward/models/<slug:name>/", reward_apis.RewardModelDetailApi.as_view(), name="reward-model"),
    path("reward/models/<slug:name>/activate/", reward_apis.RewardModelActivateApi.as_view(),
         name="reward-activate"),
    *monitoring_api_urlpatterns,
]

urlpatterns = [
    path("", account_views.home, name="home"),
    *auth_urlpatterns,
    path("accounts/", include("hfplatform.accounts.urls")),
    path("jobs/", include("hfplatform.jobs.urls")),
    path("", include("generation.urls")),
    path("review/", include("review.urls")),
    path("reward/", include("reward.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz/", platform_views.healthz, name="healthz"),
]

if settings.PROFILE != "production":
    # Media files in development and demo runs; production serves them from the web server or
    # object storage (docs/operations.md).
    urlpatterns.append(
        path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", login_required(serve),
             {"document_root": settings.MEDIA_ROOT})
    )

handler400 = "hfplatform.views.bad_request"
handler403 = "hfplatform.views.permission_denied"
handler404 = "hfplatform.views.not_found"
handler500 = "hfplatform.views.server_error"
