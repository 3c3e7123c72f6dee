"""``manage.py export_reviews --campaign ID --out DIR [--format csv|hf|both]``: a campaign's answers."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from review.exports import EXPORT_KINDS, export_to_dir
from review.models import Campaign

FORMATS = {"csv": ("csv",), "hf": ("hf",), "both": ("csv", "hf")}


class Command(BaseCommand):
    help = ("Write a campaign's ratings, comparisons and blind judgements as CSV files "
            f"({', '.join(k + '.csv' for k in EXPORT_KINDS)}) and/or a Hugging Face dataset (folder hf/, "
            "read it with datasets.load_from_disk). Reviewers appear only as pseudonyms.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument("--out", required=True, help="Folder to write into (created if missing).")
        parser.add_argument("--format", choices=sorted(FORMATS), default="both")

    def handle(self, *args, campaign: int, out: str, format: str = "both", **options) -> None:
        found = Campaign.objects.filter(pk=campaign).first()
        if found is None:
            recent = Campaign.objects.order_by("-pk").values_list("pk", flat=True)[:20]
            known = ", ".join(str(pk) for pk in recent)
            raise CommandError(f"There is no campaign {campaign}. Recent campaigns: {known or 'none'}.")
        for path in export_to_dir(found, out, FORMATS[format]):
            self.stdout.write(f"wrote {path}")
