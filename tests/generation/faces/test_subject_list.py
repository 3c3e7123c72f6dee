"""``GET /api/subjects/``: each subject with its photo counts by status, and ``photo_status`` to keep
only the subjects with at least one photo in that status (an unknown status is a 400)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from generation.faces.selectors import subject_list
from generation.models import SourcePhoto, Subject
from hfplatform.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(engineer):
    """Subjects by name with photos in these statuses (rows only: the counts need no files)."""
    wanted = {"none": [], "accepted-twice": ["accepted", "accepted", "rejected"], "rejected": ["rejected"],
              "pending": ["pending", "failed"]}
    made = {}
    for name, statuses in wanted.items():
        subject = Subject.objects.create(display_name=name, owner=engineer, consent_given_at=timezone.now(),
                                         consent_version="test")
        for i, status in enumerate(statuses):
            SourcePhoto.objects.create(subject=subject, uploaded_by=engineer, original_name=f"{i}.jpg",
                                       status=status)
        made[name] = subject
    return made


def _by_name(response) -> dict[str, dict]:
    assert response.status_code == 200, response.json()
    return {row["display_name"]: row["photo_counts"] for row in response.json()}


def test_every_subject_carries_its_photo_counts(api_client_for, people):
    listed = _by_name(api_client_for("ml_engineer").get("/api/subjects/"))
    zero = {"pending": 0, "accepted": 0, "rejected": 0, "failed": 0}
    assert listed == {
        "none": zero, "accepted-twice": {**zero, "accepted": 2, "rejected": 1},
        "rejected": {**zero, "rejected": 1}, "pending": {**zero, "pending": 1, "failed": 1}}


@pytest.mark.parametrize(("status", "names"), [
    ("accepted", {"accepted-twice"}), ("rejected", {"accepted-twice", "rejected"}), ("pending", {"pending"}),
    ("failed", {"pending"})])
def test_photo_status_keeps_the_subjects_with_such_a_photo(api_client_for, people, status, names):
    listed = _by_name(api_client_for("ml_engineer").get(f"/api/subjects/?photo_status={status}"))
    assert set(listed) == names
    assert listed.get("accepted-twice", {"accepted": 2})["accepted"] == 2  # counts are not narrowed


def test_an_unknown_photo_status_is_a_400_naming_the_allowed_ones(api_client_for, people, engineer):
    response = api_client_for("ml_engineer").get("/api/subjects/?photo_status=approved")
    assert response.status_code == 400
    body = response.json()
    assert "photo_status" in body["fields"]
    for status in ("pending", "accepted", "rejected", "failed"):
        assert status in body["detail"]
    with pytest.raises(ApplicationError) as refused:
        subject_list(user=engineer, photo_status="approved")
    assert refused.value.code == "invalid"


def test_the_list_costs_a_fixed_number_of_queries(api_client_for, people, django_assert_max_num_queries):
    client = api_client_for("ml_engineer")
    client.get("/api/subjects/")  # warm up (the token, the roles)
    with django_assert_max_num_queries(3):
        assert client.get("/api/subjects/?photo_status=rejected").status_code == 200


@pytest.mark.parametrize(("role", "expected"), [("auditor", 403), ("reviewer", 403), (None, 401)])
def test_others_may_not_list_subjects(api_client_for, role, expected):
    assert api_client_for(role).get("/api/subjects/?photo_status=accepted").status_code == expected
