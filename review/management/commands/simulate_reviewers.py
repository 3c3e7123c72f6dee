"""``manage.py simulate_reviewers --campaign ID --objective NAME --reviewers N [--noise SIGMA]
[--bias-spread B] [--seed S] [--answers-per-reviewer M]``: answer a campaign with simulated reviewers."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from hfplatform.errors import ApplicationError
from review.ml.objectives import OBJECTIVES, objective_doc
from review.models import Campaign
from review.quality import KINDS, reviewer_pseudonym, reviewer_quality
from review.selectors import campaign_progress
from review.simulation import DEFAULT_BIAS_SPREAD, DEFAULT_NOISE, campaign_simulate


class Command(BaseCommand):
    help = ("Answer a review campaign with N simulated reviewers (accounts sim-<objective>-<i>, flagged "
            "'simulated', reviewer role) through the same services as people. Each perceives an image as "
            "objective + bias + N(0, noise) in standard units of the objective over the campaign's "
            "headshots; ratings use a per-campaign 1-5 calibration, pairwise picks the higher perceived "
            "value, blind says 'studio' above the blind images' median. Objectives: "
            + "; ".join(f"{name}: {objective_doc(name)}" for name in OBJECTIVES))

    def add_arguments(self, parser) -> None:
        parser.add_argument("--campaign", type=int, required=True, help="Campaign id.")
        parser.add_argument("--objective", required=True, help=f"One of: {', '.join(OBJECTIVES)}.")
        parser.add_argument("--reviewers", type=int, required=True,
                            help="How many simulated reviewers (N >= 1).")
        parser.add_argument("--noise", type=float, default=DEFAULT_NOISE,
                            help="Mean perception noise, standard units (reviewers spread 0.5-1.5x). "
                                 f"Default {DEFAULT_NOISE}.")
        parser.add_argument("--bias-spread", type=float, default=DEFAULT_BIAS_SPREAD,
                            help="Standard deviation of the reviewers' biases, standard units. "
                                 f"Default {DEFAULT_BIAS_SPREAD}.")
        parser.add_argument("--seed", type=int, default=0, help="The same seed repeats the run. Default 0.")
        parser.add_argument("--answers-per-reviewer", type=int, default=None,
                            help="Stop each reviewer after M answers in this run (default: until no work).")

    def handle(self, *args, campaign: int, objective: str, reviewers: int, noise: float, bias_spread: float,
               seed: int, answers_per_reviewer: int | None, **options) -> None:
        found = Campaign.objects.filter(pk=campaign).first()
        if found is None:
            recent = ", ".join(map(str, Campaign.objects.order_by("-pk").values_list("pk", flat=True)[:20]))
            raise CommandError(f"There is no campaign {campaign}. Recent campaigns: {recent or 'none'}.")
        if objective not in OBJECTIVES:
            raise CommandError(f"Unknown objective {objective!r}; choose one of: {', '.join(OBJECTIVES)}.")
        try:
            team = campaign_simulate(campaign=found, objective=objective, reviewers=reviewers, noise=noise,
                                     bias_spread=bias_spread, seed=seed,
                                     answers_per_reviewer=answers_per_reviewer)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        plural = "s" if reviewers != 1 else ""
        measures = objective_doc(objective).rstrip(".")
        self.stdout.write(f"Campaign {found.pk} ({found.name}): {reviewers} simulated reviewer{plural} "
                          f"judging by {objective} ({measures}); noise {noise:g}, "
                          f"bias spread {bias_spread:g}, seed {seed}.")
        quality = {row["reviewer"]: row for row in reviewer_quality(found)}
        header = (f"{'reviewer':<24} {'pseudonym':<13} {'bias':>6} {'noise':>5}  "
                  + " ".join(f"{kind:>8}" for kind in KINDS) + "  "
                  + " ".join(f"{'gold ' + kind[:4]:>9}" for kind in KINDS)
                  + "  reliability " + "/".join(KINDS))
        self.stdout.write(header)
        for member in team:
            pseudonym = reviewer_pseudonym(member.user.pk)
            row = quality.get(pseudonym)
            kinds = row["by_kind"] if row else {}
            gold = [f"{kinds[k]['gold_correct']}/{kinds[k]['gold_answered']}" if row else "-" for k in KINDS]
            reliability = "/".join(f"{kinds[k]['reliability']:.2f}" if row else "-" for k in KINDS)
            rater = member.rater
            self.stdout.write(
                f"{member.user.username:<24} {pseudonym:<13} {rater.bias:>+6.2f} {rater.noise:>5.2f}  "
                + " ".join(f"{member.answers[k]:>8}" for k in KINDS) + "  "
                + " ".join(f"{g:>9}" for g in gold) + f"  {reliability}")
        progress = campaign_progress(found)
        total = sum(member.total for member in team)
        self.stdout.write(self.style.SUCCESS(
            f"{total} answers stored. Campaign progress: {progress['done']}/{progress['needed']} regular "
            f"answers ({progress['percent']}%), {progress['gold_answers']} gold answers."))
