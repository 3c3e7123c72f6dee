"""Reads of the review app: which campaigns a user sees, campaign progress, what a reviewer is shown.

What a reviewer is shown (``assignment_view``) names images by the assignment's own URLs, never
by headshot id, generator version, reward score, gold status or anyone else's answer.
"""

from __future__ import annotations

from statistics import median
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse

from generation.faces.selectors import photo_crop
from hfplatform.accounts.roles import READERS, Role, has_role, user_roles
from hfplatform.errors import NotFound
from hfplatform.imaging import encode_image, stored_rgb
from hfplatform.queries import text_search
from review.loop_sql import LoopState, loop_state
from review.models import (
    FLAG_KEYS,
    RATING_DIMENSIONS,
    ArtefactFlag,
    Assignment,
    BlindAnswer,
    Campaign,
    CampaignStatus,
    Choice,
    ChoiceReason,
    ReviewItem,
    TaskKind,
)


def row_lookup(*, model: type, value: object, label: str, field: str = "pk") -> Any:
    """The row a campaign's selection names (a generator version, generation job or subject), None when
    ``value`` is empty; an error on the field ``label`` (spaces as underscores) when there is none."""
    if value in (None, ""):
        return None
    found = model.objects.filter(**{field: value}).first()
    if found is None:
        raise NotFound(f"There is no {label} {value}.",
                       extra={"fields": {label.replace(" ", "_"): ["Not found."]}})
    return found


def campaigns_visible(user: Any) -> QuerySet[Campaign]:
    """Readers (ml_engineer, auditor, admin) see every campaign; others the open ones their role may take."""
    campaigns = Campaign.objects.all()
    if has_role(user, READERS):
        return campaigns
    roles = [r.value for r in user_roles(user)]
    if not roles:
        return campaigns.none()
    take = Q()
    for role in roles:
        take |= (Q(allowed_roles__contains=[role]) if _json_contains()
                 else Q(allowed_roles__icontains=f'"{role}"'))
    return campaigns.filter(take, status=CampaignStatus.OPEN)


def campaign_list(*, user: Any, search: str | None = None, status: str | None = None) -> QuerySet[Campaign]:
    """The campaigns ``user`` sees (``campaigns_visible``), newest first; ``search`` keeps those whose
    name or description holds every word (a number: the id), ``status`` one status."""
    campaigns = campaigns_visible(user).select_related("created_by").order_by("-created_at", "-id")
    if status:
        campaigns = campaigns.filter(status=status)
    return text_search(campaigns, search, ["name", "description"])


def _json_contains() -> bool:

    return connection.features.supports_json_field_contains


def campaign_get(*, campaign_id: int, user: Any) -> Campaign:
    campaign = campaigns_visible(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(f"There is no campaign {campaign_id} for you.")
    return campaign


def campaign_progress(campaign: Campaign) -> dict[str, Any]:
    """Per task kind and in total: items, answers needed and given (gold items counted apart)."""
    rows = (ReviewItem.objects.filter(campaign=campaign, is_gold=False).values("kind")
            .annotate(items=Count("id"), needed=Sum("overlap"), done=Sum("answers")))
    kinds = {row["kind"]: {"items": row["items"], "needed": row["needed"] or 0, "done": row["done"] or 0}
             for row in rows}
    for values in kinds.values():
        values["done"] = min(values["done"], values["needed"])
    needed = sum(v["needed"] for v in kinds.values())
    done = sum(v["done"] for v in kinds.values())
    gold = Assignment.objects.filter(campaign=campaign, item__is_gold=True,
                                     submitted_at__isnull=False).count()
    reviewers = (Assignment.objects.filter(campaign=campaign, submitted_at__isnull=False)
                 .values("reviewer").distinct().count())
    return {"kinds": kinds, "needed": needed, "done": done, "gold_answers": gold, "reviewers": reviewers,
            "percent": round(100 * done / needed, 1) if needed else 100.0}


def campaign_selection_view(selection: dict[str, Any]) -> list[dict[str, Any]]:
    """How a campaign chose its headshots, for people: ``[{"label", "text", "url"}]`` (``url`` None
    where there is no page), never the raw selection dict."""
    versions = reverse("generation:versions")
    rows: list[dict[str, Any]] = []
    if name := selection.get("generator_version"):
        rows.append({"label": "Generator version", "text": name, "url": f"{versions}#version-{name}"})
    for name in selection.get("generator_versions", []):
        rows.append({"label": "Generator versions", "text": name, "url": f"{versions}#version-{name}"})
    if job := selection.get("generation_job"):
        rows.append({"label": "Generation job", "text": f"#{job}", "url": None})
    if subject := selection.get("subject"):
        rows.append({"label": "Subject", "text": f"#{subject}",
                     "url": reverse("generation:subject", args=[subject])})
    if headshots := selection.get("headshots"):
        rows.append({"label": "Headshots", "text": f"{len(headshots)} chosen by id", "url": None})
    if pairs := selection.get("pairs"):
        rows.append({"label": "Pairs", "text": f"{len(pairs)} given explicitly", "url": None})
    if size := selection.get("image_size"):
        rows.append({"label": "Image size", "text": f"{size} × {size} px", "url": None})
    return rows


def reviewer_done_count(*, campaign: Campaign, reviewer: Any) -> int:
    return Assignment.objects.filter(campaign=campaign, reviewer=reviewer, submitted_at__isnull=False).count()


#: Seconds per item assumed for the time left before a reviewer has answered anything.
FIRST_ITEM_SECONDS = 10.0


def progress_figures(state: LoopState, *, held: int | None = None, available: int | None = None
                     ) -> dict[str, Any]:
    """``reviewer_progress``'s figures from a ``LoopState`` read with progress; ``held`` and
    ``available`` replace the state's (the state after a claim, ``assignment_next_with_progress``)."""
    held = state.held if held is None else held
    available = max(0, state.available if available is None else available)
    per_item = median(state.spans) if state.spans else FIRST_ITEM_SECONDS
    remaining = held + available
    return {"done": state.done, "remaining": remaining, "total": state.done + remaining,
            "skipped": state.skipped, "minutes_left": round(remaining * per_item / 60, 1)}


def reviewer_progress(*, campaign: Campaign, reviewer: Any) -> dict[str, Any]:
    """Where a reviewer stands in a campaign, cheaply enough for every item: ``done`` (answered),
    ``remaining`` (held by them now plus the regular items still short of answers that they have not
    had or skipped; items about their own subject are not told apart, an item whose slots are all
    leased counts, and gold items come on top: an estimate), ``total`` = done + remaining,
    ``skipped`` and ``minutes_left`` (remaining × their median time per item over their last 20,
    lease to answer; 10 s before the first). One statement written as SQL (``review.loop_sql``)."""
    return progress_figures(loop_state(campaign_id=campaign.pk, reviewer_id=reviewer.pk, progress=True))


#: "How you compare" shows the other reviewers' figures only as a median over at least this many.
MIN_OTHERS_FOR_MEDIAN = 3


def reviewer_standing(*, campaign: Campaign, reviewer: Any) -> dict[str, Any]:
    """A reviewer's own quality figures in a campaign beside the median of the others: gold answered
    and accuracy, agreement with the consensus of the other reviewers on the items they share, median
    seconds per answer. Never anyone else's answer: the others appear only as a median, and only when
    there are at least ``MIN_OTHERS_FOR_MEDIAN`` of them."""
    from review.quality import reviewer_figures_by_id

    rows = reviewer_figures_by_id(campaign)
    own = rows.get(reviewer.pk)
    others = [row for reviewer_id, row in rows.items() if reviewer_id != reviewer.pk]

    def figures(row: dict[str, Any] | None) -> dict[str, Any]:
        row = row or {}
        return {"answers": row.get("items_done", 0), "gold_answered": row.get("gold_answered", 0),
                "gold_accuracy": row.get("gold_accuracy"), "agreement": row.get("consensus_agreement"),
                "agreement_items": row.get("consensus_n", 0),
                "median_seconds": None if row.get("median_time_ms") is None
                else round(row["median_time_ms"] / 1000, 1)}

    def middle(key: str) -> float | None:
        values = [f[key] for f in map(figures, others) if f[key] is not None]
        return float(median(values)) if len(values) >= MIN_OTHERS_FOR_MEDIAN else None

    return {"you": figures(own), "others": {
        "reviewers": len(others) if len(others) >= MIN_OTHERS_FOR_MEDIAN else None,
        "gold_accuracy": middle("gold_accuracy"), "agreement": middle("agreement"),
        "median_seconds": middle("median_seconds")}}


def assignment_for_image(*, assignment_id: int, user: Any) -> Assignment:
    """An assignment whose images ``user`` may load: the holder of the slot, or a reader."""
    assignment = Assignment.objects.select_related("item", "item__headshot", "item__headshot_b",
                                                   "item__portrait").filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound(f"There is no assignment {assignment_id}.")
    if assignment.reviewer_id != user.pk and not has_role(user, READERS):
        raise NotFound(f"There is no assignment {assignment_id} for you.")
    return assignment


def task_vocabulary() -> dict[str, Any]:
    """Scales, flags (with their keyboard letters), choices and answers the pages and API offer."""
    return {
        "dimensions": list(RATING_DIMENSIONS),
        "flags": [{"value": f.value, "label": f.label, "key": FLAG_KEYS[f]} for f in ArtefactFlag],
        "choices": [{"value": c.value, "label": c.label} for c in Choice],
        "reasons": [{"value": r.value, "label": r.label} for r in ChoiceReason],
        "blind_answers": [{"value": a.value, "label": a.label} for a in BlindAnswer],
    }


def assignment_view(assignment: Assignment, user: Any) -> dict[str, Any]:
    """What the reviewer sees for one assignment: nothing that reveals version, score or gold."""
    kind = getattr(assignment, "item_kind", None) or assignment.item.kind  # a claim returns the kind

    def image(side: str) -> str:
        return reverse("review:assignment-image", args=[assignment.pk, side])

    view: dict[str, Any] = {
        "id": assignment.pk,
        "campaign": assignment.campaign_id,
        "kind": kind,
        "lease_expires_at": assignment.lease_expires_at.isoformat() if assignment.lease_expires_at else None,
        "expert_notes": Role.PHOTOGRAPHER in user_roles(user),
    }
    if kind == TaskKind.RATING:
        view["images"] = {"headshot": image("headshot"), "reference": image("reference")}
    elif kind == TaskKind.PAIRWISE:
        view["images"] = {"left": image("left"), "right": image("right"), "reference": image("reference")}
    else:
        view["images"] = {"image": image("image")}
    return view


IMAGE_SIDES = ("headshot", "reference", "left", "right", "image")
#: What an item shows, in the item's own terms: rating "headshot", pairwise "a" and "b" (b is the
#: broken copy on a pairwise gold item), blind "image", and the person's photo as "reference".
ITEM_SIDES = {TaskKind.RATING: ("headshot", "reference"), TaskKind.PAIRWISE: ("a", "b", "reference"),
              TaskKind.BLIND: ("image",)}


def item_image(*, item: ReviewItem, side: str, size: int | None = None) -> np.ndarray:
    """The picture one side of ``item`` shows (H×W×3 uint8), in the item's terms (:data:`ITEM_SIDES`):
    what reviewers see and simulated reviewers judge. A gold item shows its ``gold_image`` in place of
    the headshot (rating) or of ``b`` (pairwise). ``size``: a real portrait's side (blind test)."""
    if side not in ITEM_SIDES.get(item.kind, ()):
        raise NotFound(f"A {item.kind} task has no '{side}' image.")
    if side == "reference":
        return photo_crop(item.headshot.source_photo)
    if side == "headshot":
        return stored_rgb((item.gold_image or item.headshot.image).name)
    if side == "a":
        return stored_rgb(item.headshot.image.name)
    if side == "b":
        return stored_rgb((item.gold_image or item.headshot_b.image).name)
    return stored_rgb(item.headshot.image.name) if item.headshot_id else photo_crop(item.portrait, size)


def assignment_image_png(*, assignment: Assignment, side: str) -> bytes:
    """The PNG shown on one side of an assignment. Every image is re-encoded as a PNG without
    metadata, so neither the file format nor its name tells a generated image from a photograph."""
    item = assignment.item
    if side not in IMAGE_SIDES:
        raise NotFound(f"No image '{side}'.")
    if side in ("left", "right") and item.kind == TaskKind.PAIRWISE:
        left, right = ("b", "a") if assignment.swapped else ("a", "b")
        side = left if side == "left" else right
    elif side in ("left", "right"):
        raise NotFound(f"A {item.kind} task has no '{side}' image.")
    image = item_image(item=item, side=side, size=assignment.campaign.selection.get("image_size"))
    return encode_image(image, "PNG")
