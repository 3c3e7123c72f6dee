"""``manage.py seed_demo_headshots``: candidates for demo subjects that have none yet."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.generator.options import DEFAULT_CANDIDATES
from generation.generator.selectors import generator_active
from generation.generator.services import generation_job_create
from generation.models import Subject
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run


class Command(BaseCommand):
    help = "Generate candidates with the active generator for every subject without headshots."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES)
        parser.add_argument("--subjects", type=int, default=8)

    def handle(self, *args, candidates: int, subjects: int, **options) -> None:
        if generator_active() is None:
            raise CommandError("No active generator: register one first (generator_register).")
        made = 0
        for subject in Subject.objects.filter(headshots__isnull=True).order_by("pk")[:subjects]:
            try:
                request = generation_job_create(subject=subject, created_by=None,
                                                candidates=candidates, seed=subject.pk, enqueue=False)
            except ApplicationError as exc:
                self.stdout.write(f"  {subject.display_name}: skipped ({exc.message})")
                continue
            job = job_run(job_id=request.job_id)
            self.stdout.write(f"  {subject.display_name}: {job.status}")
            made += job.status == JobStatus.SUCCEEDED
        self.stdout.write(self.style.SUCCESS(f"Generated candidates for {made} subjects."))
