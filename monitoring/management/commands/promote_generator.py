"""``manage.py promote_generator CANDIDATE --judge NAME | --judge-campaign ID``: the promotion gate,
then the promotion."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from generation.generator.options import DEFAULT_GUIDANCE, DEFAULT_STEPS
from generation.generator.selectors import generator_version_get
from hfplatform.errors import ApplicationError
from hfplatform.jobs.models import JobStatus
from hfplatform.jobs.services import job_run
from monitoring.gate_report import decision_lines
from monitoring.models import GateOutcome, PromotionDecision
from monitoring.options import DEFAULT_GATE_CANDIDATES
from monitoring.promotion import generator_version_promote, promotion_gate_start
from monitoring.selectors import judge_campaign_by_id, reward_model_by_name


class Command(BaseCommand):
    help = ("Run the promotion gate on CANDIDATE against the active generator (same held-out people, same "
            "seeds), print every figure with its paired 95% interval and the verdict, and promote the "
            "candidate when the gate passes (or with --override-reason). Exits non-zero when the "
            "candidate is not promoted.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("candidate", help="Generator version name.")
        judges = parser.add_mutually_exclusive_group(required=True)
        judges.add_argument("--judge", help="Reward model that judges (not the one the candidate was trained "
                                            "against).")
        judges.add_argument("--judge-campaign", type=int, help="People judge: the id of a version comparison "
                                                               "campaign of CANDIDATE against the active "
                                                               "version, with enough answers.")
        parser.add_argument("--people", type=int, default=None, help="Use at most N shared held-out people.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--candidates", type=int, default=DEFAULT_GATE_CANDIDATES)
        parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
        parser.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE)
        parser.add_argument("--override-reason", default="",
                            help="Promote even when the gate refuses, recording this reason (admins).")
        parser.add_argument("--evaluate-only", action="store_true", help="Decide, but do not promote.")

    def handle(self, *args, candidate: str, judge: str | None, judge_campaign: int | None,
               people: int | None, seed: int, candidates: int, steps: int, guidance: float,
               override_reason: str, evaluate_only: bool, **options) -> None:
        try:
            version = generator_version_get(name=candidate)
            job = promotion_gate_start(candidate=version, judge=reward_model_by_name(judge), started_by=None,
                                       judge_campaign=judge_campaign_by_id(judge_campaign),
                                       people=people, candidates=candidates, seed=seed, steps=steps,
                                       guidance=guidance, enqueue=False)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stderr.write(f"  job {job.pk}: {job.title}")
        done = job_run(job_id=job.pk)
        if done is None or done.status != JobStatus.SUCCEEDED:
            raise CommandError(f"The gate's job failed: {done.error if done else 'not run'}")
        decision = PromotionDecision.objects.get(job=done)
        self._print(decision)
        if evaluate_only:
            if decision.outcome != GateOutcome.PASSED:
                raise CommandError("Refused by the promotion gate.")
            return
        if decision.outcome != GateOutcome.PASSED and not override_reason.strip():
            raise CommandError("Refused by the promotion gate: not promoted.")
        try:
            generator_version_promote(candidate=version, by=None, override_reason=override_reason)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        how = "despite the gate (override recorded)" if decision.outcome != GateOutcome.PASSED else ""
        self.stdout.write(f"{version.name} is now the active generator {how}".rstrip() + ".")

    def _print(self, decision: PromotionDecision) -> None:
        for line in decision_lines(decision):
            self.stdout.write(line)
