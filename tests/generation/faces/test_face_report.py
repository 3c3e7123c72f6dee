"""``face_report --by-group``: acceptance by skin-tone group on stored photos and on the corpus
analysed now, with the counterfactual camera changes; bad options are command errors."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from generation.faces.selectors import face_audit_rows
from generation.faces.services import face_corpus_import
from generation.models import PhotoStatus, SourcePhoto

pytestmark = pytest.mark.django_db


def test_by_group_on_stored_photos_counts_every_analysed_photo(capsys):
    face_corpus_import(limit=3)
    photo = SourcePhoto.objects.order_by("id").first()
    SourcePhoto.objects.filter(pk=photo.pk).update(status=PhotoStatus.REJECTED, rejection_reasons=["no_face"],
                                                   skin_tone_measured=None, face_count=0)
    subject = photo.subject
    subject.skin_tone_self_reported = "dark"
    subject.save()
    rows = face_audit_rows()
    assert len(rows) == 3
    assert sum(r.group == "unknown" for r in rows) == 1
    assert [r.group for r in face_audit_rows(by="self_reported")] == ["dark"]

    call_command("face_report", "--by-group", "--min-n", "1")
    out = capsys.readouterr().out
    assert "By measured skin tone (ITA category): 3 photos" in out
    assert "By self-reported skin tone: 1 photos" in out
    assert "unknown" in out
    assert "acceptance ratio worst/best" in out

    call_command("face_report", "--by-group", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["measured"]["photos"] == 3
    assert data["measured"]["groups"]["unknown"]["detection_recall"] == 0.0
    assert data["self_reported"]["groups"]["dark"]["rejection_rates"] == {"no_face": 1.0}


def test_corpus_report_with_the_counterfactual(capsys):
    call_command("face_report", "--corpus", "--limit", "4", "--counterfactual", "--per-group", "1",
                 "--min-n", "1", "--json")
    data = json.loads(capsys.readouterr().out)
    assert data["detector"] == "cascade"
    assert data["measured"]["photos"] == 4
    assert SourcePhoto.objects.count() == 0  # nothing stored
    counterfactual = data["counterfactual"]
    assert set(counterfactual["changes"]) >= {"exposure -1 EV", "exposure +1 EV", "degrade motion_blur"}
    with_accepted = {g for g, v in data["measured"]["groups"].items() if v["accepted"]}
    assert counterfactual["groups"] == dict.fromkeys(with_accepted, 1)  # one photo per group (--per-group 1)
    for row in counterfactual["changes"].values():
        assert row["extra_drop_points"][counterfactual["reference_group"]] == 0.0


@pytest.mark.parametrize(("options", "message"), [
    (["--counterfactual"], "need --corpus"),
    (["--corpus", "--limit", "0"], "--limit must be at least 1"),
    (["--corpus", "--limit", "1", "--detector", "yolo"], "unknown face detector 'yolo'"),
])
def test_bad_options_are_command_errors(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("face_report", *options)
