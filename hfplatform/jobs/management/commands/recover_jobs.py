"""``manage.py recover_jobs``: settle jobs whose worker died (the consumer also does this itself)."""

from django.core.management.base import BaseCommand

from hfplatform.jobs.services import jobs_recover


class Command(BaseCommand):
    help = "Mark jobs of dead workers failed (or resume resumable ones); re-enqueue lost jobs."

    def handle(self, *args, **options) -> None:
        counts = jobs_recover(on_startup=False)
        self.stdout.write(", ".join(f"{k}: {v}" for k, v in counts.items()))
