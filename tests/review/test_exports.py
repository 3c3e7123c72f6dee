"""CSV and Hugging Face exports of a campaign's answers, and the export_reviews command."""

from __future__ import annotations

import csv
import io

import pytest
from datasets import load_from_disk
from django.core.management import CommandError, call_command

from review.exports import COLUMNS, EXPORT_KINDS, export_csv, export_to_dir
from review.models import BlindJudgement, Comparison, Rating
from review.quality import reviewer_pseudonym
from tests.factories.review import answer_all, honest


@pytest.fixture
def exported(review_world, make_campaign, make_user):
    """All three kinds with gold items, answered by a reviewer (with a formula-like comment) and a
    photographer."""
    world = review_world(subjects=2, per_subject=3, portraits=2)
    campaign = make_campaign(world, task_kinds=["rating", "pairwise", "blind"], overlap=2, gold_rate=0.2)
    reviewer, photographer = make_user("reviewer", username="alice.reviewer"), make_user("photographer")

    def commenting(assignment):
        fields = honest(assignment)
        if assignment.item.kind == "rating":
            fields.update(flags=["eyes", "teeth"], comment="=HYPERLINK(\"http://x\")")
        return fields

    answer_all(campaign, reviewer, commenting, time_spent_ms=900)
    answer_all(campaign, photographer, honest)
    return world, campaign, (reviewer, photographer)


def _parse(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_one_row_per_answer_and_no_usernames(exported):
    world, campaign, users = exported
    counts = {"ratings": Rating.objects.filter(campaign=campaign).count(),
              "comparisons": Comparison.objects.filter(campaign=campaign).count(),
              "blind": BlindJudgement.objects.filter(campaign=campaign).count()}
    pseudonyms = {reviewer_pseudonym(u.pk) for u in users}
    for kind in EXPORT_KINDS:
        text = export_csv(campaign, kind)
        rows = _parse(text)
        assert counts[kind] > 0
        assert len(rows) == counts[kind]
        assert list(rows[0]) == COLUMNS[kind]
        assert {row["reviewer"] for row in rows} == pseudonyms
        for user in users:
            assert user.username not in text
    ratings = _parse(export_csv(campaign, "ratings"))
    assert {row["generator_version"] for row in ratings} == {world.version.name}
    gold = [row for row in ratings if row["is_gold"] == "True"]
    assert gold
    assert all(row["gold_correct"] == "True" for row in gold)
    assert all(row["gold_correct"] == "" for row in ratings if row["is_gold"] == "False")
    alice = [row for row in ratings if row["reviewer"] == reviewer_pseudonym(users[0].pk)]
    assert {row["flags"] for row in alice} == {"eyes;teeth"}
    assert {row["comment"] for row in alice} == {"'=HYPERLINK(\"http://x\")"}  # not run as a formula
    assert {row["time_spent_ms"] for row in alice} == {"900"}
    assert {row["reviewer_role"] for row in ratings} == {"reviewer", "photographer"}
    blind = _parse(export_csv(campaign, "blind"))
    real = [row for row in blind if row["is_generated"] == "False"]
    assert real
    assert all(row["portrait_id"] and not row["headshot_id"] and not row["generator_version"] for row in real)
    pairs = _parse(export_csv(campaign, "comparisons"))
    for row in pairs:
        shown = {row["left_headshot_id"], row["right_headshot_id"]}
        assert shown == {row["headshot_a_id"], row["headshot_b_id"]}


def test_unknown_kind_is_refused(exported):
    _, campaign, _ = exported
    with pytest.raises(ValueError, match="unknown export kind"):
        export_csv(campaign, "subjects")


def test_hf_dataset_reloads_with_the_same_rows(exported, tmp_path):
    _, campaign, users = exported
    written = export_to_dir(campaign, tmp_path / "out", formats=("hf",))
    assert written == [tmp_path / "out" / "hf"]
    dataset = load_from_disk(str(tmp_path / "out" / "hf"))
    assert set(dataset) == set(EXPORT_KINDS)
    ratings = list(Rating.objects.filter(campaign=campaign).order_by("id"))
    assert dataset["ratings"].num_rows == len(ratings)
    assert dataset["ratings"]["answer_id"] == [r.pk for r in ratings]
    assert dataset["ratings"]["appeal"] == [r.appeal for r in ratings]
    assert dataset["comparisons"]["winner"] == list(
        Comparison.objects.filter(campaign=campaign).order_by("id").values_list("winner", flat=True))
    assert dataset["blind"].num_rows == BlindJudgement.objects.filter(campaign=campaign).count()
    first = dataset["ratings"][0]
    assert first["reviewer"] in {reviewer_pseudonym(u.pk) for u in users}
    assert first["created_at"].tzinfo is not None
    assert isinstance(first["flags"], list)
    assert set(dataset["ratings"].column_names) == set(COLUMNS["ratings"])


def test_empty_campaign_exports_empty_splits_that_reload(review_world, make_campaign, tmp_path):
    campaign = make_campaign(review_world(subjects=1, per_subject=2, portraits=0), task_kinds=["rating"])
    export_to_dir(campaign, tmp_path, formats=("csv", "hf"))
    dataset = load_from_disk(str(tmp_path / "hf"))
    assert [dataset[kind].num_rows for kind in EXPORT_KINDS] == [0, 0, 0]
    assert (tmp_path / "ratings.csv").read_text().splitlines() == [",".join(COLUMNS["ratings"])]


def test_export_reviews_command_writes_both_formats(exported, tmp_path):
    _, campaign, _ = exported
    out = io.StringIO()
    call_command("export_reviews", "--campaign", str(campaign.pk), "--out", str(tmp_path / "x"), stdout=out)
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["blind.csv", "comparisons.csv", "hf",
                                                                  "ratings.csv"]
    assert "wrote" in out.getvalue()
    rows = _parse((tmp_path / "x" / "comparisons.csv").read_text())
    assert len(rows) == Comparison.objects.filter(campaign=campaign).count()
    assert load_from_disk(str(tmp_path / "x" / "hf"))["comparisons"].num_rows == len(rows)
    call_command("export_reviews", "--campaign", str(campaign.pk), "--out", str(tmp_path / "y"),
                 "--format", "csv", stdout=io.StringIO())
    assert not (tmp_path / "y" / "hf").exists()


def test_export_reviews_command_errors_on_unknown_campaign(db, tmp_path):
    with pytest.raises(CommandError, match="There is no campaign 987654"):
        call_command("export_reviews", "--campaign", "987654", "--out", str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
