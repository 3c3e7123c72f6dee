"""``manage.py generator_report --version V``: quality of a generator on held-out people."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS
from generation.generator.selectors import generator_version_get
from hfplatform.errors import ApplicationError
from monitoring.services import generator_report

# The figures printed, by the names every evaluation uses (metric snapshots too), and their format.
FIGURES = [("fid", "{:.1f}"), ("kid", "{:.4f}"), ("lpips_likeness", "{:.3f}"),
           ("identity_distance", "{:.3f}"), ("identity_verification_rate", "{:.0%}"),
           ("identity_distance_to_portrait", "{:.3f}"), ("identity_verification_rate_to_portrait", "{:.0%}")]
NAME_WIDTH, CELL_WIDTH = 40, 22


def _cell(metric: dict, fmt: str, interval: bool = True) -> str:
    if metric.get("value") is None:
        return "unavailable"
    text = fmt.format(metric["value"])
    if interval and metric.get("interval"):
        low, high = metric["interval"]
        text += f" [{fmt.format(low)}–{fmt.format(high)}]"
    return text


class Command(BaseCommand):
    help = ("Print FID/KID (vs held-out portraits), LPIPS likeness to the clean portrait, identity "
            "distance and verification rate (against the input and the person's portrait), each with its "
            "95% interval, for casual inputs, generated headshots and the SDEdit baseline, and whether "
            "the targets are met.")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version V` names the generator here; it replaces Django's own --version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--version", required=True, help="Generator version name.")
        parser.add_argument("--subjects", type=int, default=None, help="Use at most N held-out people.")
        parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
        parser.add_argument("--seed", type=int, default=0,
                            help="Candidate seeds are seed + subject id × 1000 (as in metric snapshots).")
        parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE,
                            help="Classifier-free guidance of the generated row (1 = plain conditional).")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, version: str, subjects: int | None, steps: int, seed: int = 0,
               guidance: float = DEFAULT_GUIDANCE, json: bool = False, **options) -> None:
        try:
            figures = generator_report(version=generator_version_get(name=version), people=subjects,
                                       steps=steps, seed=seed, guidance=guidance,
                                       report=lambda m: self.stderr.write(f"  {m}"))
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if json:
            import json as json_module

            self.stdout.write(json_module.dumps(figures, indent=2))
            return
        self.stdout.write(f"Generator {figures['version']} on {figures['people']} held-out people "
                          f"({figures['image_size']} px, {figures['steps']} steps, seed {figures['seed']}, "
                          f"guidance {figures['guidance']:g})")
        rows = figures["rows"]
        self.stdout.write(f"{'figure':<{NAME_WIDTH}}" + "".join(f"{name:>{CELL_WIDTH}}" for name in rows))
        for key, fmt in FIGURES:
            cells = "".join(f"{_cell(row[key], fmt):>{CELL_WIDTH}}" for row in rows.values())
            self.stdout.write(f"{key:<{NAME_WIDTH}}{cells}")
        self.stdout.write("Targets (generated row):")
        for target in figures["targets"]:
            mark = {True: "met", False: "NOT met", None: "unmeasured"}[target["met"]]
            value = "—" if target["value"] is None else f"{target['value']:.4g}"
            goal = "—" if target["goal"] is None else f"{target['goal']:.4g}"
            note = f" ({target['note']})" if target.get("note") else ""
            self.stdout.write(f"  {target['target']}: {value} vs {goal}: {mark}{note}")
        shown = [row[key] for row in rows.values() for key, _ in FIGURES]
        reasons = {m["unavailable"] for m in shown if m.get("unavailable")}
        for reason in sorted(reasons):
            self.stdout.write(f"  {reason}")
        extractors = {m["extractor"] for m in shown if m["extractor"]}
        self.stdout.write("Extractors: " + "; ".join(sorted(extractors)))
        self.stdout.write(figures["notes"])
