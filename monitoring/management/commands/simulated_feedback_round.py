"""``manage.py simulated_feedback_round --objective sharpness --method dpo``: a whole loop round without
people, on the active generator — spread candidates, a pairwise campaign answered by simulated
reviewers, then ``feedback_loop`` (datasets, reward models, fine-tune, gate, promotion)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from generation.faces.services import face_corpus_import
from generation.generator.selectors import generator_active
from hfplatform.errors import ApplicationError
from hfplatform.jobs.console import command_user
from monitoring.simulated_round import simulated_campaigns
from review.ml.objectives import OBJECTIVES
from reward.models import FineTuneMethod

#: --quick: a round in minutes on two CPU cores (figures too coarse to mean much; it shows the loop).
QUICK = {"dpo": ["--steps", "40"], "raft": ["--rounds", "1", "--steps", "20", "--candidates", "4"],
         "both": ["--gate-people", "8", "--gate-steps", "10", "--reward-steps", "300"]}


class Command(BaseCommand):
    help = ("One feedback-loop round with simulated reviewers on the active generator: candidates of "
            "--people people it does not hold out (guidance 1-3, DDIM eta 0.5), a pairwise campaign "
            "answered by 6 simulated reviewers judging by --objective, then `feedback_loop`. --opposite: "
            "the tuning people are judged by the objective's opposite (the gate must refuse the result). "
            "--quick: small settings that finish in minutes.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--objective", default="sharpness", help=f"One of: {', '.join(OBJECTIVES)}.")
        parser.add_argument("--method", default="dpo", choices=FineTuneMethod.values)
        parser.add_argument("--people", type=int, default=24, help="Campaign people (not held out).")
        parser.add_argument("--corpus", type=int, default=0,
                            help="First import this many corpus photos (idempotent), so that enough people "
                                 "are held out for the gate and enough are not for the campaign.")
        parser.add_argument("--candidates", type=int, default=6, help="Candidates per person.")
        parser.add_argument("--name", help="Name of the candidate version (default: <active>-<method>-N).")
        parser.add_argument("--opposite", action="store_true",
                            help="Tune towards the objective's opposite (a candidate the gate must refuse).")
        parser.add_argument("--quick", action="store_true", help="Settings that finish in minutes.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--user", default="engineer", help="The ML engineer recorded as starting it.")
        parser.add_argument("--no-promote", action="store_true", help="Decide, but do not promote.")

    def handle(self, *args, **o) -> None:
        user = command_user(o["user"])
        version = generator_active()
        if version is None:
            raise CommandError("No active generator version to fine-tune.")
        if o["corpus"]:
            counts = face_corpus_import(limit=o["corpus"])
            self.stdout.write(f"corpus: {counts['imported']} imported, {counts['already_there']} kept")
        name = o["name"] or f"{version.name}-{o['method']}-{version.finetunings.count() + 1}"
        try:
            round_ = simulated_campaigns(version=version, engineer=user, objective=o["objective"],
                                         people=o["people"], candidates=o["candidates"],
                                         opposite=o["opposite"], seed=o["seed"], say=self.stdout.write)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{round_.answers} simulated answers in campaign(s) "
                          f"{', '.join(map(str, round_.campaign_ids))}")
        loop = [arg for campaign in round_.campaign_ids for arg in ("--campaign", str(campaign))]
        loop += ["--method", o["method"], "--name", name, "--seed", str(o["seed"]), "--user", o["user"]]
        if o["quick"]:
            loop += QUICK[o["method"]] + QUICK["both"]
        if o["no_promote"]:
            loop.append("--no-promote")
        call_command("feedback_loop", *loop, stdout=self.stdout, stderr=self.stderr)
