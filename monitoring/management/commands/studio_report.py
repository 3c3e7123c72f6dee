"""``manage.py studio_report --version V``: each studio stage measured on the version's held-out people."""

from __future__ import annotations

import json as json_module
import shlex

from django.core.management.base import BaseCommand, CommandError

from generation.generator.selectors import generator_version_get
from hfplatform.errors import ApplicationError
from monitoring.studio_report import studio_report


class Command(BaseCommand):
    help = ("Measure every studio stage (super-resolution, lighting, colour, background, all default stages) "
            "on a generator version's held-out people, each figure with n and its 95% interval; the figures "
            "are stored in the version's report under 'studio'. See generation/ml/studio/evaluate.py.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version V` names the generator here; it replaces Django's own --version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--version", required=True, help="Generator version name.")
        parser.add_argument("--people", type=int, default=None, help="Use at most N held-out people.")
        parser.add_argument("--seed", type=int, default=0,
                            help="Seeds the known lights and casts, and the generated headshots (as the "
                                 "generator report does).")
        parser.add_argument("--no-generate", action="store_true",
                            help="Skip the generated headshots (and so the identity figures).")
        parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")

    def handle(self, *args, version: str, people: int | None = None, seed: int = 0, no_generate: bool = False,
               json: bool = False, **options) -> None:
        command = ["python", "manage.py", "studio_report", "--version", version]
        command += [*(["--people", str(people)] if people is not None else []), "--seed", str(seed)]
        command += [flag for flag, on in (("--no-generate", no_generate), ("--json", json)) if on]
        line = shlex.join(command)
        try:
            figures = studio_report(version=generator_version_get(name=version), people=people, seed=seed,
                                    generate=not no_generate, report=lambda m: self.stderr.write(f"  {m}"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if json:  # the command line goes into the JSON, so stdout stays one JSON document
            self.stdout.write(json_module.dumps({"command": line, **figures}, indent=2, ensure_ascii=False))
            return
        from generation.ml.studio.evaluate import format_table

        self.stdout.write(f"$ {line}")
        sampled = (f"{figures['steps']} steps, guidance {figures['guidance']:g}" if figures["generated"]
                   else "not sampled (--no-generate)")
        self.stdout.write(f"Generator {figures['version']} ({figures['image_size']} px); "
                          f"generated headshots: {sampled}")
        self.stdout.write(format_table(figures))
