"""``manage.py export_preferences --dataset NAME --out DIR``: pairs as a Hugging Face dataset."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reward.exports import preference_dataset_export
from reward.models import PreferenceDataset


class Command(BaseCommand):
    help = ("Save a preference dataset's pairs (chosen/rejected/reference images, margin, weight, split) "
            "with datasets.save_to_disk, for TRL or any trainer elsewhere.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dataset", required=True, help="Dataset name.")
        parser.add_argument("--out", required=True, type=Path)
        parser.add_argument("--include-ties", action="store_true")

    def handle(self, *args, dataset: str, out: Path, include_ties: bool, **options) -> None:
        found = PreferenceDataset.objects.filter(name=dataset).first()
        if found is None:
            names = ", ".join(PreferenceDataset.objects.values_list("name", flat=True)[:20]) or "none yet"
            raise CommandError(f"There is no preference dataset {dataset!r} (known: {names}).")
        folder = preference_dataset_export(found, out, include_ties=include_ties)
        self.stdout.write(self.style.SUCCESS(f"Saved {found.name} to {folder} (datasets.load_from_disk)."))
