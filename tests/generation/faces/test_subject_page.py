"""The subjects page scales: search by name or corpus reference, a source filter, pages of 24 and a
thumbnail of each subject's first accepted photo."""

from __future__ import annotations

import pytest
from django.utils import timezone

from generation.models import Subject, SubjectSource

pytestmark = pytest.mark.django_db


def _subjects(owner, count: int, prefix: str, source: str = SubjectSource.UPLOAD) -> None:
    Subject.objects.bulk_create(
        Subject(display_name=f"{prefix} {i:02d}", owner=owner, consent_given_at=timezone.now(),
                consent_version="test", source=source, source_ref=f"{prefix.lower()}-{i:02d}.jpg")
        for i in range(count))


def test_search_source_and_pages(client_for):
    client = client_for("ml_engineer")
    _subjects(client.user, 30, "Ada")
    _subjects(client.user, 5, "Grace", SubjectSource.CORPUS)
    first = client.get("/subjects/").content.decode()
    assert "35 subjects · page 1 of 2" in first
    assert first.count('<td><a href="/subjects/') == 24
    second = client.get("/subjects/?page=2").content.decode()
    assert second.count('<td><a href="/subjects/') == 11
    assert 'rel="prev"' in second
    found = client.get("/subjects/?q=grace").content.decode()
    assert "5 subjects found" in found
    assert "Ada 00" not in found
    by_ref = client.get("/subjects/?q=ada-07.jpg").content.decode()
    assert "1 subject found" in by_ref
    assert "Ada 07" in by_ref
    assert "5 subjects found" in client.get("/subjects/?source=corpus").content.decode()
    bad = client.get("/subjects/?source=mars")
    assert bad.status_code == 200
    assert "Unknown source" in bad.content.decode()
    assert "35 subjects" in bad.content.decode()  # the whole list instead, with the reason


def test_a_subject_with_an_accepted_photo_shows_its_thumbnail(client_for, ready_subject):
    client = client_for("ml_engineer")
    page = client.get("/subjects/").content.decode()
    photo = ready_subject.photos.get()
    assert f'src="/photos/{photo.pk}/file/aligned-64/"' in page
    assert client.get(f"/photos/{photo.pk}/file/aligned-64/").status_code == 200
