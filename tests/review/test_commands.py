"""The demo campaign command that `make run` calls."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from review.models import Campaign


def test_seed_demo_campaign_once(review_world, capsys):
    world = review_world(subjects=2, per_subject=2, portraits=4)
    with pytest.raises(CommandError, match="No active generator"):
        call_command("seed_demo_campaign")
    world.version.status = "active"
    world.version.save()
    call_command("seed_demo_campaign")
    campaign = Campaign.objects.get()
    assert set(campaign.task_kinds) == {"rating", "pairwise", "blind"}
    assert campaign.items.filter(kind="blind", portrait__isnull=False, is_gold=False).count() == 4
    assert campaign.items.filter(kind="blind", is_gold=True).exists()  # known studio portraits
    call_command("seed_demo_campaign")
    assert Campaign.objects.count() == 1
    assert "exists already" in capsys.readouterr().out
