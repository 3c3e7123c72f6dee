"""Bench-only URLconf: every project route plus the baseline of bench/review_api.py, a plain DRF
create endpoint for :class:`review.models.Rating` at ``/bench/ratings/``.

The baseline is what DRF gives with no service layer: a ``generics.CreateAPIView`` with a
``ModelSerializer`` (one lookup per foreign key, the unique check on ``assignment``, one INSERT),
DRF's own token authentication and ``IsAuthenticated``. It checks no lease, no
ownership, no overlap; the bench posts ratings for assignment rows it made up front. Only
bench/review_bench_settings.py points ROOT_URLCONF here.
"""

from __future__ import annotations

from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated

from hfplatform.urls import handler400, handler403, handler404, handler500
from review.models import Rating


class RatingBaselineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rating
        fields = ["id", "assignment", "item", "campaign", "headshot", "reviewer_role", "professionalism",
                  "likeness", "appeal", "flags", "comment", "time_spent_ms"]


class RatingBaselineCreateApi(generics.CreateAPIView):
    queryset = Rating.objects.all()
    serializer_class = RatingBaselineSerializer
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def perform_create(self, serializer: RatingBaselineSerializer) -> None:
        serializer.save(reviewer=self.request.user)


urlpatterns = [
    path("bench/ratings/", RatingBaselineCreateApi.as_view(), name="bench-ratings"),
    path("", include("hfplatform.urls")),
]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
