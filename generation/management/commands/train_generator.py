"""``manage.py train_generator``: the same training job the page and API start, run here."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.generator.options import DEFAULT_BATCH_SIZE, DEFAULT_IMAGE_SIZE
from generation.generator.training import generator_training_start
from generation.ml.options import PREDICTION_TYPES, TRAINING_PREDICTION_TYPE
from hfplatform.errors import ApplicationError
from hfplatform.jobs.console import job_run_with_bar
from hfplatform.jobs.models import JobStatus


class Command(BaseCommand):
    help = ("Train the conditional diffusion generator on the stored aligned crops (held-out "
            "people excluded), with checkpoints; registers the result as a generator version.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True, help="Name of the new version (a slug).")
        parser.add_argument("--steps", type=int, default=2000)
        parser.add_argument("--minutes", type=float, default=None, help="Stop after this long.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument("--image-size", type=int, default=None,
                            help=f"{DEFAULT_IMAGE_SIZE}, or the parent's when fine-tuning; another aligned "
                                 "crop size grows the parent to it.")
        parser.add_argument("--prediction-type", default=None, choices=PREDICTION_TYPES,
                            help=f"{TRAINING_PREDICTION_TYPE} unless fine-tuning.")
        parser.add_argument("--parent", default=None,
                            help="Fine-tune this version (its weights, config and held-out people).")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--group-balance", type=float, default=0.0,
                            help="Even out measured skin-tone groups in the batches: 0 uniform, 1 equal.")
        parser.add_argument("--activate", action="store_true")

    def handle(self, *args, **o) -> None:
        # If this process is killed, a huey consumer's recovery resumes the job from its last
        # checkpoint (the job kind is resumable), like any other job.
        try:
            job = generator_training_start(
                started_by=None, name=o["name"], steps=o["steps"], minutes=o["minutes"],
                batch_size=o["batch_size"], image_size=o["image_size"],
                prediction_type=o["prediction_type"], seed=o["seed"], activate=o["activate"],
                parent=o["parent"], group_balance=o["group_balance"], enqueue=False)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Training job {job.pk} (follow it at /jobs/{job.pk}/ too)")
        job = job_run_with_bar(job, self.stdout)
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Training {job.status}: {job.error or job.message}")
        self.stdout.write(self.style.SUCCESS(
            f"Registered generator {job.result['version']} after {job.result['steps']} steps."))
