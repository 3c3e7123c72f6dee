"""``manage.py generator_report --version V``: quality of a generator on held-out people."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS
from generation.generator.selectors import generator_version_get
from hfplatform.errors import ApplicationError
from monitoring.services import generator_report

COLUMNS = [("fid", "FID", "{:.1f}", 8), ("kid", "KID", "{:.4f}", 8),
           ("lpips_likeness", "LPIPS→clean", "{:.3f}", 22),
           ("identity_distance", "id dist→input", "{:.3f}", 14),
           ("identity_verification_rate", "verified→input", "{:.0%}", 16),
           ("identity_distance_to_portrait", "id dist→person", "{:.3f}", 15),
           ("identity_verification_rate_to_portrait", "verified→person", "{:.0%}", 17)]


def _cell(metric: dict, fmt: str, interval: bool = True) -> str:
    if metric.get("value") is None:
        return "unavailable"
    text = fmt.format(metric["value"])
    if interval and metric.get("interval"):
        low, high = metric["interval"]
        text += f" [{fmt.format(low)}–{fmt.format(high)}]"
    return text


class Command(BaseCommand):
    help = ("Print FID/KID (vs held-out portraits), LPIPS to the clean original, identity distance "
            "and verification share (against the input and the person's portrait) for casual inputs, "
            "generated headshots and the SDEdit baseline, and whether the targets are met.")

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
        header = f"{'':<16}" + "".join(f"{title:>{width}}" for _, title, _, width in COLUMNS)
        self.stdout.write(header)
        for row_name, row in figures["rows"].items():
            cells = "".join(f"{_cell(row[key], fmt, key == 'lpips_likeness'):>{width}}"
                            for key, _, fmt, width in COLUMNS)
            self.stdout.write(f"{row_name:<16}{cells}")
        for key in ("identity_verification_rate", "identity_verification_rate_to_portrait"):
            cells = [f"{name} {_cell(row[key], '{:.0%}')}" for name, row in figures["rows"].items()]
            self.stdout.write(f"{key} [95% CI]: " + "; ".join(cells))
        self.stdout.write("Targets (generated row):")
        for target in figures["targets"]:
            mark = {True: "met", False: "NOT met", None: "unmeasured"}[target["met"]]
            value = "—" if target["value"] is None else f"{target['value']:.4g}"
            goal = "—" if target["goal"] is None else f"{target['goal']:.4g}"
            note = f" ({target['note']})" if target.get("note") else ""
            self.stdout.write(f"  {target['target']}: {value} vs {goal}: {mark}{note}")
        shown = [row[key] for row in figures["rows"].values() for key, *_ in COLUMNS]
        reasons = {m["unavailable"] for m in shown if m.get("unavailable")}
        for reason in sorted(reasons):
            self.stdout.write(f"  {reason}")
        extractors = {m["extractor"] for m in shown if m["extractor"]}
        self.stdout.write("Extractors: " + "; ".join(sorted(extractors)))
        self.stdout.write(figures["notes"])
