"""``manage.py generator_report --version V``: quality of a generator on held-out people."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.report_services import generator_report
from generation.selectors import generator_version_get
from hfplatform.errors import ApplicationError

COLUMNS = [("fid", "FID", "{:.1f}"), ("kid", "KID", "{:.4f}"), ("lpips_to_clean", "LPIPS→clean", "{:.3f}"),
           ("identity_distance", "identity dist", "{:.3f}"), ("verified_share", "verified", "{:.0%}")]


def _cell(metric: dict, fmt: str) -> str:
    if metric.get("value") is None:
        return "unavailable"
    text = fmt.format(metric["value"])
    if metric.get("interval"):
        low, high = metric["interval"]
        text += f" [{fmt.format(low)}–{fmt.format(high)}]"
    return text


class Command(BaseCommand):
    help = ("Print FID/KID (vs held-out portraits), LPIPS to the clean original, identity distance "
            "and verification share for casual inputs, generated headshots and the SDEdit baseline.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version V` names the generator here; it replaces Django's own --version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--version", required=True, help="Generator version name.")
        parser.add_argument("--subjects", type=int, default=None, help="Use at most N held-out people.")
        parser.add_argument("--steps", type=int, default=25)
        parser.add_argument("--guidance", type=float, default=1.0,
                            help="Classifier-free guidance of the generated row (1 = plain conditional).")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, version: str, subjects: int | None, steps: int, guidance: float = 1.0,
               json: bool = False, **options) -> None:
        try:
            figures = generator_report(version=generator_version_get(name=version), subjects=subjects,
                                       steps=steps, guidance=guidance,
                                       report=lambda m: self.stderr.write(f"  {m}"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if json:
            import json as json_module

            self.stdout.write(json_module.dumps(figures, indent=2))
            return
        self.stdout.write(f"Generator {figures['version']} on {figures['people']} held-out people "
                          f"({figures['image_size']} px, {figures['steps']} steps, "
                          f"guidance {figures['guidance']:g})")
        header = f"{'':<16}" + "".join(f"{title:>24}" for _, title, _ in COLUMNS)
        self.stdout.write(header)
        for row_name, row in figures["rows"].items():
            cells = "".join(f"{_cell(row[key], fmt):>24}" for key, _, fmt in COLUMNS)
            self.stdout.write(f"{row_name:<16}{cells}")
        reasons = {m["unavailable"] for row in figures["rows"].values() for m in row.values()
                   if m.get("unavailable")}
        for reason in sorted(reasons):
            self.stdout.write(f"  {reason}")
        extractors = {m["extractor"] for row in figures["rows"].values() for m in row.values()
                      if m["extractor"]}
        self.stdout.write("Extractors: " + "; ".join(sorted(extractors)))
        self.stdout.write(figures["notes"])
