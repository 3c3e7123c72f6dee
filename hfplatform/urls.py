"""URLs: pages at the top, the v1 API under /api/ (every route is in the OpenAPI schema)."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hfplatform import views as platform_views
from hfplatform.accounts import apis as account_apis
from hfplatform.accounts import views as account_views
from hfplatform.accounts.urls import auth_urlpatterns
from hfplatform.audit import views as audit_views
from hfplatform.jobs import apis as job_apis

# The project's URLconf composes the apps: it names their route modules (no import of apps above
# the platform), in the dependency order of docs/architecture.md.
api_patterns = [
    path("auth/token/", account_apis.TokenObtainApi.as_view(), name="token"),
    path("me/", account_apis.MeApi.as_view(), name="me"),
    path("jobs/", job_apis.JobListApi.as_view(), name="jobs"),
    path("jobs/thumbnails/", job_apis.ThumbnailsJobStartApi.as_view(), name="jobs-thumbnails"),
    path("jobs/<int:job_id>/", job_apis.JobDetailApi.as_view(), name="job"),
    path("jobs/<int:job_id>/cancel/", job_apis.JobCancelApi.as_view(), name="job-cancel"),
    path("audit/", audit_views.AuditEventListApi.as_view(), name="audit-events"),
    path("", include("generation.api_urls")),
    path("", include("review.api_urls")),
    path("", include("reward.api_urls")),
    path("", include("monitoring.api_urls")),
]

urlpatterns = [
    path("", account_views.home, name="home"),
    *auth_urlpatterns,
    path("accounts/", include("hfplatform.accounts.urls")),
    path("jobs/", include("hfplatform.jobs.urls")),
    path("audit/", include("hfplatform.audit.urls")),
    path("", include("generation.urls")),
    path("review/", include("review.urls")),
    path("reward/", include("reward.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its script as a file: no inline script under the Content-Security-Policy.
    # Our page around it: a language, contrast that meets WCAG AA (static/css/api_docs.css).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api-schema", template_name="api/docs.html"), name="api-docs"),
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
