"""Per-user rate limits on the API's expensive writes: uploads and starting jobs.

A view names its scope (``throttle_scope = "uploads"`` or ``"jobs"``); only its writes (POST, PUT,
PATCH, DELETE) count, per signed-in user, at the rates of ``API_RATE_UPLOADS`` / ``API_RATE_JOBS``
(DRF's "number/period" form; empty turns a scope off). Over the rate: 429 with ``Retry-After``
and the usual JSON error. Counts live in the default cache: Redis where ``REDIS_URL`` is set, so all
web processes share them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class WriteRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` for writes only, with the rates read from the settings at each request
    (so a deployment, or a test, can change them)."""

    def get_rate(self) -> str | None:
        return settings.API_RATES.get(self.scope) or None

    def allow_request(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)
