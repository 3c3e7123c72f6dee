"""``manage.py feedback_loop --campaign ID --method dpo|raft --name NAME``: one round of the loop."""

from __future__ import annotations

import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from hfplatform.errors import ApplicationError
from hfplatform.jobs.console import bar_line, command_user
from hfplatform.jobs.models import Job
from monitoring.feedback_loop import LoopResult, feedback_loop_check, feedback_loop_run
from monitoring.gate_report import decision_lines
from reward.ml.options import MODELS
from reward.models import FineTuneMethod

#: Options that set a fine-tuning hyper-parameter: option dest -> (DPO field, RAFT field).
HYPER_OPTIONS = {"beta": ("beta", None), "steps": ("max_steps", "steps_per_round"),
                 "rounds": (None, "rounds"), "candidates": (None, "candidates")}


class Command(BaseCommand):
    help = ("One round of the feedback loop: two preference datasets of the campaigns on disjoint people "
            "(tuning / judging), a reward model on each, a LoRA fine-tune of the active generator (DPO on "
            "the tuning pairs or RAFT with the tuning reward model), the promotion gate judged by the "
            "judging reward model, and promotion when it passes. Exits non-zero when the candidate is "
            "refused.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", type=int, action="append", required=True, dest="campaigns",
                            help="Campaign id (repeatable).")
        parser.add_argument("--method", required=True, choices=FineTuneMethod.values)
        parser.add_argument("--name", required=True, help="Name of the candidate version (a slug).")
        parser.add_argument("--judge-share", type=float, default=0.5,
                            help="Share of the campaigns' people whose answers train the judge (0-1).")
        parser.add_argument("--seed", type=int, default=0, help="The people split, training and gate seeds.")
        parser.add_argument("--rank", type=int, help="LoRA rank (1-64).")
        parser.add_argument("--beta", type=float, help="DPO: KL strength.")
        parser.add_argument("--steps", type=int, help="DPO: max steps; RAFT: steps per round.")
        parser.add_argument("--rounds", type=int, help="RAFT: rounds.")
        parser.add_argument("--candidates", type=int, help="RAFT: samples per person and round.")
        parser.add_argument("--gate-people", type=int, help="Evaluate at most N held-out people at the gate.")
        parser.add_argument("--gate-steps", type=int, help="Sampler steps at the gate.")
        parser.add_argument("--reward-steps", type=int, help="Max training steps of both reward models.")
        parser.add_argument("--reward-kind", choices=MODELS, help="Reward model kind of both.")
        parser.add_argument("--no-promote", action="store_true", help="Decide, but do not promote.")
        parser.add_argument("--user", help="Record this user as the one who started each step.")

    def _hyper(self, o: dict[str, Any]) -> dict[str, Any]:
        column = 0 if o["method"] == FineTuneMethod.DPO else 1
        hyper: dict[str, Any] = {"seed": o["seed"]}
        for option, fields in HYPER_OPTIONS.items():
            if o.get(option) is None:
                continue
            if fields[column] is None:
                raise CommandError(f"--{option} does not apply to {o['method']}.")
            hyper[fields[column]] = o[option]
        return hyper

    def handle(self, *args, **o) -> None:
        user = command_user(o["user"])
        request = {"campaign_ids": o["campaigns"], "method": o["method"], "name": o["name"],
                   "judge_share": o["judge_share"], "seed": o["seed"],
                   "lora": {"rank": o["rank"]} if o["rank"] is not None else None, "hyper": self._hyper(o),
                   "gate": {k: o[f"gate_{k}"] for k in ("people", "steps") if o[f"gate_{k}"] is not None},
                   "reward_hyper": {k: v for k, v in (("max_steps", o["reward_steps"]),
                                                      ("model", o["reward_kind"])) if v is not None}}
        try:
            feedback_loop_check(**request)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        result = self._run(request, user, promote=not o["no_promote"])
        if result.failed_step:
            raise CommandError(f"The loop stopped at the {result.failed_step} step: {result.error}")
        for line in decision_lines(result.decision):
            self.stdout.write(line)
        for step, seconds in result.seconds.items():
            self.stdout.write(f"  {step:<14} {seconds:8.1f} s")
        if result.promoted:
            self.stdout.write(self.style.SUCCESS(f"{result.candidate.name} is now the active generator."))
        elif not result.passed:
            raise CommandError(f"Refused by the promotion gate: {result.candidate.name} is not promoted.")
        else:
            self.stdout.write(f"{result.candidate.name} passed the gate; not promoted (--no-promote).")

    def _run(self, request: dict[str, Any], user: Any, *, promote: bool) -> LoopResult:
        """Run the loop in a thread and draw the running step's progress bar here."""
        current: dict[str, Any] = {}
        out: dict[str, Any] = {}

        def say(message: str) -> None:
            if current.get("job"):
                self.stdout.write("")
            current["job"] = None
            self.stdout.write(message)
            if ": job " in message:
                current["job"] = int(message.split(": job ", 1)[1].split(" ", 1)[0])

        def work() -> None:
            try:
                out["result"] = feedback_loop_run(started_by=user, promote=promote, say=say, **request)
            except BaseException as exc:  # re-raised in the main thread
                out["error"] = exc
            finally:
                connection.close()

        runner = threading.Thread(target=work, daemon=True)
        runner.start()
        while runner.is_alive():
            runner.join(timeout=2)
            job = Job.objects.filter(pk=current.get("job") or 0).first()
            if job is not None:
                self.stdout.write(bar_line(job), ending="")
                self.stdout.flush()
        if "error" in out:
            error = out["error"]
            raise CommandError(error.message) if isinstance(error, ApplicationError) else error
        return out["result"]
