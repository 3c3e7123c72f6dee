"""``manage.py finetune_generator``: the same LoRA fine-tuning job the API starts, run here."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from hfplatform.errors import ApplicationError
from hfplatform.jobs.console import command_user, job_run_with_bar
from hfplatform.jobs.models import JobStatus
from reward.finetuning import generator_finetune_start
from reward.models import Dimension, FineTuneMethod

#: Options that set a hyper-parameter of the method: option dest -> (DPO field, RAFT field).
HYPER_OPTIONS = {"beta": ("beta", None), "steps": ("max_steps", "steps_per_round"),
                 "rounds": (None, "rounds"), "candidates": (None, "candidates"),
                 "learning_rate": ("learning_rate", "learning_rate"),
                 "batch_size": ("batch_size", "batch_size"),
                 "seed": ("seed", "seed")}


def _value(text: str) -> Any:
    """A ``--hyper KEY=VALUE`` value: a JSON number, boolean or string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class Command(BaseCommand):
    help = ("Fine-tune a generator version with a LoRA adapter: Diffusion-DPO on a preference dataset's "
            "pairs, or RAFT on samples ranked by a reward model. Registers the merged weights as a "
            "candidate version whose parent is the one fine-tuned.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--parent", required=True, help="The generator version to fine-tune.")
        parser.add_argument("--method", required=True, choices=FineTuneMethod.values)
        parser.add_argument("--name", required=True, help="Name of the new version (a slug).")
        parser.add_argument("--dataset", type=int, help="DPO: the preference dataset (id).")
        parser.add_argument("--dimension", default=Dimension.OVERALL.value, choices=Dimension.values)
        parser.add_argument("--reward-model", help="RAFT: the trained reward model that ranks samples.")
        parser.add_argument("--rank", type=int, help="LoRA rank (1-64; 8 by default).")
        parser.add_argument("--alpha", type=float, help="LoRA alpha (> 0; the rank by default).")
        parser.add_argument("--dropout", type=float, help="LoRA dropout (0-0.5).")
        parser.add_argument("--include-convs", action="store_true",
                            help="Also adapt the ResNet convolutions (needed without attention layers).")
        parser.add_argument("--beta", type=float, help="DPO: KL strength.")
        parser.add_argument("--steps", type=int, help="DPO: max steps; RAFT: steps per round.")
        parser.add_argument("--rounds", type=int, help="RAFT: rounds.")
        parser.add_argument("--candidates", type=int, help="RAFT: samples per person and round.")
        parser.add_argument("--learning-rate", type=float)
        parser.add_argument("--batch-size", type=int)
        parser.add_argument("--seed", type=int)
        parser.add_argument("--hyper", action="append", default=[], metavar="KEY=VALUE",
                            help="Any other hyper-parameter of the method (repeatable).")
        parser.add_argument("--user", help="Record this user as the one who started it.")

    def _hyper(self, o: dict[str, Any]) -> dict[str, Any]:
        column = 0 if o["method"] == FineTuneMethod.DPO else 1
        hyper: dict[str, Any] = {}
        for option, fields in HYPER_OPTIONS.items():
            if o.get(option) is None:
                continue
            if fields[column] is None:
                raise CommandError(f"--{option.replace('_', '-')} does not apply to {o['method']}.")
            hyper[fields[column]] = o[option]
        for item in o["hyper"]:
            key, sep, text = item.partition("=")
            if not sep or not key:
                raise CommandError(f"--hyper takes KEY=VALUE, not {item!r}.")
            hyper[key.strip()] = _value(text)
        return hyper

    def handle(self, *args, **o) -> None:
        user = command_user(o["user"])
        lora = {k: o[k] for k in ("rank", "alpha", "dropout") if o[k] is not None}
        if o["include_convs"]:
            lora["include_convs"] = True
        try:
            finetuning = generator_finetune_start(
                parent=o["parent"], method=o["method"], started_by=user, name=o["name"],
                dataset=o["dataset"], reward_model=o["reward_model"], lora=lora, hyper=self._hyper(o),
                dimension=o["dimension"], enqueue=False)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        job = finetuning.job
        self.stdout.write(f"Fine-tuning {finetuning.pk}, job {job.pk} (follow it at /jobs/{job.pk}/ too)")
        # If this process is killed, a huey consumer's recovery resumes the job from its checkpoint.
        job = job_run_with_bar(job, self.stdout)
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"Fine-tuning {job.status}: {job.error or job.message}")
        result = job.result
        figures = {k: v for k, v in result.items() if not k.endswith("_curve")}
        self.stdout.write(json.dumps(figures, indent=2, default=str))
        self.stdout.write(self.style.SUCCESS(
            f"Registered generator {result['version']} (candidate), fine-tuned from {result['parent']}."))
