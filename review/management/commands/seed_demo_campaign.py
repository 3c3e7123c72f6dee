"""``manage.py seed_demo_campaign``: a review campaign over the active generator's headshots."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from generation.generator.selectors import generator_active
from hfplatform.errors import ApplicationError
from review.models import Campaign, TaskKind
from review.options import DEFAULT_GOLD_RATE
from review.services import campaign_create


class Command(BaseCommand):
    help = ("Create the demo review campaign (rating, pairwise and blind test, 2 reviewers per item) over "
            "the active generator's headshots, unless a campaign exists already.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--overlap", type=int, default=2)
        parser.add_argument("--gold-rate", type=float, default=DEFAULT_GOLD_RATE)

    def handle(self, *args, overlap: int, gold_rate: float, **options) -> None:
        if Campaign.objects.exists():
            self.stdout.write("A review campaign exists already; nothing to do.")
            return
        version = generator_active()
        if version is None:
            raise CommandError("No active generator: register one first (generator_register).")
        engineer = get_user_model().objects.filter(username="engineer").first()
        kinds = [TaskKind.RATING, TaskKind.PAIRWISE, TaskKind.BLIND]
        try:
            campaign = campaign_create(
                created_by=engineer, name=f"Demo: {version.name} headshots", task_kinds=kinds,
                overlap=overlap, gold_rate=gold_rate, generator_version=version,
                description="Rate each headshot beside the person's photo, pick the better of two, and "
                            "tell AI headshots from studio portraits.")
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        items = campaign.items.filter(is_gold=False).count()
        self.stdout.write(self.style.SUCCESS(f"Created review campaign {campaign.pk} with {items} items: "
                                             "log in as 'reviewer' and open Review."))
