"""``manage.py generator_register DIR --name NAME``: record a generator written by save_generator."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.generator.selectors import generator_version_get
from generation.generator.services import generator_sample_grid, generator_version_register
from generation.models import GeneratorVersion
from hfplatform.errors import ApplicationError


class Command(BaseCommand):
    help = "Register a generator folder (e.g. the checkpoint that ships in generation/checkpoints/)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("files_dir")
        parser.add_argument("--name", required=True)
        parser.add_argument("--activate", action="store_true")
        parser.add_argument("--if-missing", action="store_true",
                            help="Do nothing when a version of that name exists.")
        parser.add_argument("--notes", default="")
        parser.add_argument("--parent", default=None, help="The version it was fine-tuned from.")

    def handle(self, *args, files_dir: str, name: str, activate: bool, if_missing: bool,
               notes: str, parent: str | None = None, **options) -> None:
        if if_missing and GeneratorVersion.objects.filter(name=name).exists():
            self.stdout.write(f"Generator {name} is already registered.")
            return
        try:
            parent_version = generator_version_get(name=parent) if parent else None
            version = generator_version_register(name=name, files_dir=files_dir, activate=activate,
                                                 notes=notes, parent=parent_version)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        try:
            generator_sample_grid(version=version)
        except ApplicationError as exc:
            self.stdout.write(f"No sample grid yet: {exc.message}")
        self.stdout.write(self.style.SUCCESS(f"Registered {version.name} ({version.status})."))
