"""``manage.py export_training_set OUT.npz``: the generator's training split, for another machine."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from generation.generator.options import DEFAULT_HELDOUT_FRACTION, DEFAULT_IMAGE_SIZE
from generation.generator.training import training_set_export
from hfplatform.errors import ApplicationError


class Command(BaseCommand):
    help = ("Write the aligned crops of the training split (held-out people excluded) as an npz, "
            "and OUT.json naming the held-out people, for `python -m generation.ml.train`.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("out", type=Path)
        parser.add_argument("--image-size", type=int, default=DEFAULT_IMAGE_SIZE)
        parser.add_argument("--heldout-fraction", type=float, default=DEFAULT_HELDOUT_FRACTION)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--parent", default=None,
                            help="Keep this version's held-out people out (for --init-from its files).")

    def handle(self, *args, out: Path, image_size: int, heldout_fraction: float, seed: int,
               parent: str | None, **options) -> None:
        try:
            info = training_set_export(out=out, image_size=image_size,
                                       heldout_fraction=heldout_fraction, seed=seed, parent=parent)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            f"Wrote {info['images']} training crops to {out}; {len(info['heldout_refs'])} people "
            f"held out (listed in {out}.json)."))
