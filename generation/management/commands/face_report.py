"""``manage.py face_report``: what the face pipeline made of every analysed photo."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from generation.faces.selectors import face_report_data
from generation.models import SkinTone


class Command(BaseCommand):
    help = "Print passed/rejected counts, rejections by reason, ITA categories and time per photo."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args, json: bool = False, **options) -> None:
        data = face_report_data()
        if json:
            import json as json_module

            self.stdout.write(json_module.dumps(data, indent=2))
            return
        out = self.stdout.write
        by_status = data["by_status"]
        out(f"Photos analysed: {data['photos']}")
        for status in ("accepted", "rejected", "failed"):
            out(f"  {status:<9} {by_status.get(status, 0)}")
        out("Rejections by reason (a photo can have several):")
        for reason, n in data["rejections"].items():
            out(f"  {reason:<16} {n}")
        if not data["rejections"]:
            out("  none")
        out("Measured skin tone (ITA category) of accepted photos:")
        for value, label in SkinTone.choices:
            out(f"  {label:<13} {data['skin_tone_measured'].get(value, 0)}")
        for key, title in (("detect_seconds", "Face detection"), ("analysis_seconds", "Whole analysis")):
            s = data[key]
            out(f"{title} per photo: " + (f"mean {s['mean']:.3f} s, median {s['median']:.3f} s "
                                          f"(n={s['n']})" if s else "no timings yet"))
