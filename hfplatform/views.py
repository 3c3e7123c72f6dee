"""Platform-wide views: health check and error pages (JSON under /api/, HTML elsewhere), and the
helpers every app's pages use (a selector's NotFound as a 404, a form handed to a service)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from hfplatform.accounts.roles import token_sent
from hfplatform.errors import ApplicationError, NotFound, add_error_to_form

logger = logging.getLogger(__name__)
Row = TypeVar("Row")

LIST_LIMIT = 200  # rows an unpaginated list (an API's list, the campaign page) returns at most


def page_search(request: HttpRequest) -> str:
    """A list page's ``search`` text: white space collapsed, cut to what the API's ``search`` takes
    (a page never refuses it: an over-long search simply finds less)."""
    from hfplatform.queries import SEARCH_MAX_LENGTH

    return " ".join(request.GET.get("search", "").split())[:SEARCH_MAX_LENGTH]


def first_rows(rows: Any, limit: int) -> tuple[list[Any], int]:
    """The first ``limit`` of a queryset and how many match in all (counted only when there are more)."""
    shown = list(rows[:limit])
    return shown, rows.count() if len(shown) == limit else len(shown)


def found_or_404(selector: Callable[..., Row], **lookup: Any) -> Row:
    """What a selector finds, or the site's 404 page with the selector's reason (page views)."""
    try:
        return selector(**lookup)
    except NotFound as exc:
        raise Http404(exc.message) from None


def form_submit(*, form: Any, service: Callable[[dict[str, Any]], Row]) -> Row | None:
    """What ``service`` (a call of a service) makes of a valid form's cleaned data; None when the form
    is not valid or the service refused, its ``ApplicationError`` then shown on the form."""
    if not form.is_valid():
        return None
    try:
        return service(dict(form.cleaned_data))
    except ApplicationError as exc:
        add_error_to_form(form, exc)
        return None


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: the database answers and the task queue is reachable."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        from huey.contrib.djhuey import HUEY

        HUEY.pending_count()
        checks["queue"] = "ok"
    except Exception as exc:
        checks["queue"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "degraded", **checks},
                        status=200 if healthy else 503)


def _error(request: HttpRequest, status: int, title: str, reason: str) -> HttpResponse:
    """JSON under /api/ and for every request with an API token (e.g. an image URL the API handed
    out, fetched by a script), the error page elsewhere."""
    if request.path.startswith("/api/") or token_sent(request):
        return JsonResponse({"detail": reason, "code": title.lower().replace(" ", "_")},
                            status=status)
    return render(request, "error.html", {"status": status, "title": title, "reason": reason},
                  status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400 for what Django refuses before a view runs, saying which limit was hit (JSON under /api/)."""
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

    if isinstance(exception, TooManyFilesSent):
        return _error(request, 400, "Too many files",
                      f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request; send the rest "
                      "in another request.")
    if isinstance(exception, TooManyFieldsSent):
        return _error(request, 400, "Too many fields",
                      f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} form fields per request.")
    if isinstance(exception, RequestDataTooBig):
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return _error(request, 413, "Request too large",
                      f"The request body is over the {megabytes} MB limit (uploaded files have their own "
                      "limits).")
    return _error(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    reason = str(exception) or "Your role does not give access to this page."
    return _error(request, 403, "Forbidden", reason)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error(request, 404, "Not found", "There is nothing at this address.")


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    methods = ", ".join(m.strip() for m in allowed.split(",") if m.strip()) or "another method"
    return _error(request, 405, "Method not allowed",
                  f"This address takes {methods}: it is the target of a button or form, not a page to open.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the site's 403 page instead of Django's."""
    return _error(request, 403, "Forbidden",
                  "The form had expired or did not come from this site. Go back, reload the page and try "
                  "again.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "Server error",
                  "Something went wrong on our side; it has been logged.")
