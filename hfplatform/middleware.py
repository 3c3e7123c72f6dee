"""The site's own error pages for errors a view raises, in development as in production.

With ``DEBUG`` on, Django answers a view's ``Http404`` with its technical page (the URL patterns and
settings) and ``PermissionDenied`` / ``BadRequest`` bypass nothing but look different from the
production pages. A reviewer who opens a job that is not theirs should see the same tidy 404 in a
development server as in production, so a view's ``Http404``, ``PermissionDenied`` and
``SuspiciousOperation`` are answered here by the site's handlers, and the empty 405 of a route that
takes another method becomes the site's page too (the API keeps its JSON). Unresolved URLs (no route) and
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
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and not request.path.startswith("/api/"):
            # ``require_POST`` and friends answer an empty 405: say it, keeping the Allow header.
            page = views.method_not_allowed(request, response.get("Allow", ""))
            page["Allow"] = response.get("Allow", "")
            return page
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return views.not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return views.permission_denied(request, exception)
        if isinstance(exception, SuspiciousOperation):
            return views.bad_request(request, exception)
        if isinstance(exception, OverflowError):  # an id beyond 64 bits (SQLite): nothing is there
            return views.not_found(request, exception)
        return None


class SecurityHeadersMiddleware:
    """Every response carries ``Content-Security-Policy`` (``CONTENT_SECURITY_POLICY``: scripts only
    from this site's files, no inline script, no plugins, no framing) and ``Permissions-Policy``
    (no camera, microphone or location). Django's own middleware adds the rest (nosniff, referrer
    policy, X-Frame-Options, HSTS in production)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY
        self.permissions = settings.PERMISSIONS_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy:
            response.setdefault("Content-Security-Policy", self.policy)
        if self.permissions:
            response.setdefault("Permissions-Policy", self.permissions)
        return response
