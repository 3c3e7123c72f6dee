"""The site's own error pages for errors a view raises, in development as in production.

With ``DEBUG`` on, Django answers a view's ``Http404`` with its technical page (the URL patterns and
settings) and ``PermissionDenied`` / ``BadRequest`` bypass nothing but look different from the
production pages. A reviewer who opens a job that is not theirs should see the same tidy 404 in a
development server as in production, so a view's ``Http404``, ``PermissionDenied`` and
``SuspiciousOperation`` are answered here by the site's handlers. Unresolved URLs (no route) and
genuine crashes keep Django's debug pages in development: those are for developers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from hfplatform import views


class SiteErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return views.not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return views.permission_denied(request, exception)
        if isinstance(exception, SuspiciousOperation):
            return views.bad_request(request, exception)
        return None
