"""Home cards of the review app: a reviewer's open campaigns with what is left for them; for
engineers and auditors, the open campaigns and how far along they are."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from hfplatform.accounts.roles import READERS, REVIEWERS, has_role
from hfplatform.home import Card, home_card
from review.models import CampaignStatus
from review.selectors import campaign_progress, campaigns_visible, reviewer_progress
from review.services import can_take

SHOWN = 5


@home_card(order=10)
def reviewer_work(user: Any) -> Card | None:
    if not has_role(user, REVIEWERS):
        return None
    items = []
    for campaign in campaigns_visible(user).filter(status=CampaignStatus.OPEN)[:20]:
        if not can_take(user, campaign):
            continue
        progress = reviewer_progress(campaign=campaign, reviewer=user)
        if progress["remaining"]:
            minutes = max(1, round(progress["minutes_left"]))
            items.append({"text": campaign.name, "url": reverse("review:work", args=[campaign.pk]),
                          "note": f"{progress['remaining']} left for you · about {minutes} min"})
    return {"title": "Your review work", "items": items[:SHOWN], "testid": "home-review-work",
            "empty": "Nothing waiting for you: every open campaign is done or full. Thank you!",
            "links": [{"text": "All campaigns", "url": reverse("review:campaigns")}]}


@home_card(order=20)
def open_campaigns(user: Any) -> Card | None:
    if not has_role(user, READERS):
        return None
    items = []
    for campaign in campaigns_visible(user).filter(status=CampaignStatus.OPEN)[:SHOWN]:
        progress = campaign_progress(campaign)
        note = (f"{progress['done']} of {progress['needed']} answers ({progress['percent']:g}%), "
                f"{progress['reviewers']} reviewers")
        items.append({"text": campaign.name, "url": reverse("review:campaign", args=[campaign.pk]),
                      "note": note})
    return {"title": "Open review campaigns", "items": items, "testid": "home-campaigns",
            "empty": "No open campaign.",
            "links": [{"text": "All campaigns", "url": reverse("review:campaigns")}]}
