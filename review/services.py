"""Writes of the review app: campaigns, handing out work, and storing answers.

Handing out work (``assignment_next``) is the part that must hold under concurrency. Every regular
item has ``overlap`` slots (Assignment rows) made when the campaign is created. A reviewer claims
one with a single UPDATE that picks the slot and takes it when it is still free
(``review.loop_sql.claim_sql``): the database applies it atomically, so two requests can never both
win the same slot, on SQLite (one writer at a time) as on PostgreSQL (the picked row is read
``FOR UPDATE SKIP LOCKED``, so concurrent requests spread over different slots instead of queueing
on the first one). A unique constraint (item, reviewer) stops one reviewer from holding two slots
of one item.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from math import ceil
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image

from generation.models import Headshot, PhotoStatus, SourcePhoto, SubjectSource
from hfplatform.accounts.roles import GROUP_ROLES, Role, has_role, user_roles
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError, Conflict, NotFound
from hfplatform.imaging import encode_image, stored_rgb
from review.loop_sql import ANSWERED_SQL, claim_sql, loop_state
from review.models import (
    RATING_DIMENSIONS,
    ArtefactFlag,
    Assignment,
    BlindAnswer,
    BlindJudgement,
    Campaign,
    CampaignStatus,
    Choice,
    ChoiceReason,
    Comparison,
    Pairing,
    Rating,
    ReviewItem,
    Skip,
    TaskKind,
)
from review.options import (
    DEFAULT_GOLD_RATE,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_OVERLAP,
    DEFAULT_PAIRS_PER_JOB,
    DEFAULT_ROLES,
    DEFAULT_SCALE_ANCHORS,
    GOLD_RATE,
    GUIDELINES_MAX_LENGTH,
    LEASE_SECONDS,
    OVERLAP,
    SCALE_ANCHOR_MAX_LENGTH,
    SCORES,
    SKIP_REASON_MAX_LENGTH,
)
from review.selectors import progress_figures

MAX_CLAIM_TRIES = 8
NO_PAIRS = {
    Pairing.WITHIN_JOB: "Pairwise needs at least two headshots of one subject from one job.",
    Pairing.ACROSS_VERSIONS: "Pairing across versions needs headshots of one subject from at least two "
                             "generator versions (choose several versions, a subject or headshot ids).",
    Pairing.ANY: "Pairwise needs at least two headshots of one subject.",
}
LEASE_MESSAGE = "The lease must be between 30 seconds and one day."


class Forbidden(ApplicationError):
    status_code = 403
    code = "forbidden"


# --- Campaigns ------------------------------------------------------------------------------------


def _broken_image(headshot: Headshot, seed: int) -> ContentFile:
    """A clearly broken version of a headshot for gold items: its quarters shuffled and heavy noise."""
    pixels = stored_rgb(headshot.image.name).astype(np.int16)
    rng = np.random.default_rng(seed)
    h, w = pixels.shape[0] // 2, pixels.shape[1] // 2
    q = [pixels[:h, :w], pixels[:h, w:2 * w], pixels[h:2 * h, :w], pixels[h:2 * h, w:2 * w]]
    tiles = np.concatenate([np.concatenate([q[3], q[2]], axis=1), np.concatenate([q[1], q[0]], axis=1)])
    broken = tiles + rng.normal(0, 60, tiles.shape).astype(np.int16)
    return ContentFile(encode_image(np.clip(broken, 0, 255).astype(np.uint8), "PNG"),
                       name=f"gold-{headshot.pk}-{seed}.png")


def scale_anchors_check(anchors: Any) -> dict[str, str]:
    """``{"1": "not usable", ...}`` made canonical (points "1"–"5", short text, blanks dropped);
    ``ValueError`` says what is wrong."""
    if not isinstance(anchors, dict):
        raise ValueError('give an object such as {"1": "not usable", "5": "studio quality"}')
    points = {str(n) for n in SCORES}
    out = {}
    for key, text in anchors.items():
        if str(key) not in points:
            raise ValueError(f"scale points are 1 to 5, not {key!r}")
        if not isinstance(text, str) or len(text.strip()) > SCALE_ANCHOR_MAX_LENGTH:
            raise ValueError(f"point {key}: text of at most {SCALE_ANCHOR_MAX_LENGTH} characters")
        if text.strip():
            out[str(key)] = text.strip()
    return dict(sorted(out.items()))


def _validate_texts(errors: dict[str, list[str]], fields: dict[str, Any]) -> dict[str, Any]:
    """Check the campaign's guidelines and scale anchors among ``fields``; the canonical values."""
    out: dict[str, Any] = {}
    if "guidelines" in fields:
        if not isinstance(fields["guidelines"], str) or len(fields["guidelines"]) > GUIDELINES_MAX_LENGTH:
            errors["guidelines"] = [f"Markdown text of at most {GUIDELINES_MAX_LENGTH} characters."]
        else:
            out["guidelines"] = fields["guidelines"].strip()
    if "scale_anchors" in fields:
        try:
            out["scale_anchors"] = scale_anchors_check(fields["scale_anchors"])
        except ValueError as exc:
            errors["scale_anchors"] = [f"{str(exc)[0].upper()}{str(exc)[1:]}."]
    return out


def _validate_campaign(*, task_kinds: Sequence[str], overlap: int, allowed_roles: Sequence[str],
                       gold_rate: float, lease_seconds: int) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    kinds = set(TaskKind.values)
    if not task_kinds or any(k not in kinds for k in task_kinds):
        errors["task_kinds"] = [f"Choose one or more of: {', '.join(TaskKind.values)}."]
    if overlap not in OVERLAP:
        errors["overlap"] = [f"Overlap must be between {OVERLAP.start} and {OVERLAP.stop - 1} reviewers."]
    roles = {r.value for r in GROUP_ROLES}
    if not allowed_roles or any(r not in roles for r in allowed_roles):
        errors["allowed_roles"] = [f"Choose one or more of: {', '.join(sorted(roles))}."]
    if not GOLD_RATE[0] <= gold_rate <= GOLD_RATE[1]:
        errors["gold_rate"] = [f"The gold share must be between {GOLD_RATE[0]} and {GOLD_RATE[1]}."]
    if lease_seconds not in LEASE_SECONDS:
        errors["lease_seconds"] = [LEASE_MESSAGE]
    return errors


def _pairs(headshots: list[Headshot], explicit: Sequence[Sequence[int]] | None, rng: random.Random,
           pairs_per_job: int, pairing: str = Pairing.WITHIN_JOB) -> list[tuple[Headshot, Headshot]]:
    """The pairwise items: ``explicit`` pairs as given, else drawn by ``pairing`` (:func:`pair_draw`)."""
    if explicit is not None:
        by_id = {h.pk: h for h in Headshot.objects.filter(pk__in={i for p in explicit for i in p})}
        pairs = []
        for pair in explicit:
            if len(pair) != 2 or pair[0] == pair[1] or any(i not in by_id for i in pair):
                raise ApplicationError(f"Pair {list(pair)} must name two different existing headshots.",
                                       code="invalid_pair")
            a, b = by_id[pair[0]], by_id[pair[1]]
            if a.subject_id != b.subject_id:
                raise ApplicationError(
                    f"Headshots {a.pk} and {b.pk} show different people: a comparison is between two "
                    "headshots of the same subject.", code="pair_different_subjects")
            pairs.append((a, b))
        return pairs
    return pair_draw(headshots, pairing=pairing, rng=rng, per_group=pairs_per_job)


def pair_draw(headshots: Sequence[Headshot], *, pairing: str, rng: random.Random,
              per_group: int) -> list[tuple[Headshot, Headshot]]:
    """Pairs of ``headshots`` for pairwise items, never of two different people, seeded by ``rng``:

    * ``within_job``: two candidates of one generation job, at most ``per_group`` pairs per job;
    * ``across_versions``: one person's headshots from two different generator versions, at most
      ``per_group`` pairs per person, taken round-robin over the person's version pairs (so a third
      version is not crowded out by the two with the most headshots);
    * ``any``: any two headshots of one person (other jobs, versions, guidance, samplers), at most
      ``per_group`` per person, pairs that differ in more of version / job / guidance / sampler / eta
      first.

    The caller passes kept headshots only (``campaign_create`` filters ``kept=True``)."""
    ordered = sorted(headshots, key=lambda h: h.pk)
    if pairing == Pairing.WITHIN_JOB:
        key = "generation_job_id"
    elif pairing in (Pairing.ACROSS_VERSIONS, Pairing.ANY):
        key = "subject_id"
    else:
        raise ApplicationError(f"pairing must be one of: {', '.join(Pairing.values)}.", code="invalid",
                               extra={"fields": {"pairing": ["Unknown pairing."]}})
    groups: dict[int, list[Headshot]] = defaultdict(list)
    for head in ordered:
        groups[getattr(head, key)].append(head)
    pairs: list[tuple[Headshot, Headshot]] = []
    for _, group in sorted(groups.items()):
        combos = [(a, b) for a, b in itertools.combinations(group, 2) if a.subject_id == b.subject_id]
        rng.shuffle(combos)
        if pairing == Pairing.ACROSS_VERSIONS:
            combos = _round_robin(
                [(a, b) for a, b in combos if a.generator_version_id != b.generator_version_id],
                key=lambda p: tuple(sorted((p[0].generator_version_id, p[1].generator_version_id))))
        elif pairing == Pairing.ANY:
            combos.sort(key=lambda p: -_differences(*p))  # stable: the shuffle breaks ties
        pairs += combos[:per_group]
    return pairs


def _differences(a: Headshot, b: Headshot) -> int:
    """How many of the settings that make two headshots differ do differ."""
    fields = ("generator_version_id", "generation_job_id", "guidance", "sampler", "eta")
    return sum(getattr(a, f) != getattr(b, f) for f in fields)


def _round_robin(pairs: list[tuple[Headshot, Headshot]], key: Any) -> list[tuple[Headshot, Headshot]]:
    """``pairs`` interleaved by ``key`` (one of each key in turn, in order of first appearance)."""
    buckets: dict[Any, list[tuple[Headshot, Headshot]]] = {}
    for pair in pairs:
        buckets.setdefault(key(pair), []).append(pair)
    out: list[tuple[Headshot, Headshot]] = []
    for layer in itertools.zip_longest(*buckets.values()):
        out += [pair for pair in layer if pair is not None]
    return out


def _portraits(exclude_subjects: Iterable[int], count: int, rng: random.Random,
               exclude_photos: Iterable[int] = ()) -> list[SourcePhoto]:
    """Real studio portraits (corpus photos that passed the checks) for the blind test."""
    photos = list(SourcePhoto.objects.filter(status=PhotoStatus.ACCEPTED,
                                             subject__source=SubjectSource.CORPUS)
                  .exclude(subject_id__in=list(exclude_subjects)).exclude(pk__in=list(exclude_photos))
                  .exclude(aligned_crops={}).order_by("pk")[: count * 4])
    rng.shuffle(photos)
    return photos[:count]


@transaction.atomic
def campaign_create(
    *, created_by: Any, name: str, task_kinds: Sequence[str], overlap: int = DEFAULT_OVERLAP,
    allowed_roles: Sequence[str] = DEFAULT_ROLES, gold_rate: float = DEFAULT_GOLD_RATE,
    lease_seconds: int = DEFAULT_LEASE_SECONDS, generator_version: Any = None, generation_job: Any = None,
    subject: Any = None, headshot_ids: Sequence[int] | None = None,
    pairs: Sequence[Sequence[int]] | None = None, pairs_per_job: int = DEFAULT_PAIRS_PER_JOB,
    description: str = "", seed: int = 0, pairing: str = Pairing.WITHIN_JOB,
    generator_versions: Sequence[Any] | None = None, guidelines: str = "",
    scale_anchors: dict[str, str] | None = None,
) -> Campaign:
    """Create a campaign over the headshots chosen by version / versions / generation job / subject /
    ids (all given filters apply), with its items, gold items and slots. Pairwise items are drawn by
    ``pairing`` (:func:`pair_draw`; ``pairs_per_job`` caps the pairs per job for ``within_job``, per
    person otherwise), unless ``pairs`` names them."""
    task_kinds = list(dict.fromkeys(task_kinds))
    errors = _validate_campaign(task_kinds=task_kinds, overlap=overlap, allowed_roles=allowed_roles,
                                gold_rate=gold_rate, lease_seconds=lease_seconds)
    if pairing not in Pairing.values:
        errors["pairing"] = [f"Choose one of: {', '.join(Pairing.values)}."]
    elif pairs is not None and pairing != Pairing.WITHIN_JOB:
        errors["pairing"] = ["Explicit pairs are used as given: leave pairing at within_job."]
    if not name.strip():
        errors["name"] = ["Give the campaign a name."]
    texts = _validate_texts(errors, {"guidelines": guidelines,
                                     "scale_anchors": DEFAULT_SCALE_ANCHORS if scale_anchors is None
                                     else scale_anchors})
    if errors:
        raise ApplicationError("The campaign settings are not valid.", code="invalid",
                               extra={"fields": errors})
    headshots = Headshot.objects.select_related("subject").filter(kept=True)  # best-of-n: only the top k
    selection: dict[str, Any] = {}
    if generator_version is not None:
        headshots = headshots.filter(generator_version=generator_version)
        selection["generator_version"] = generator_version.name
    if generator_versions:
        headshots = headshots.filter(generator_version__in=list(generator_versions))
        selection["generator_versions"] = sorted(v.name for v in generator_versions)
    if generation_job is not None:
        headshots = headshots.filter(generation_job=generation_job)
        selection["generation_job"] = generation_job.pk
    if subject is not None:
        headshots = headshots.filter(subject=subject)
        selection["subject"] = subject.pk
    if headshot_ids is not None:
        headshots = headshots.filter(pk__in=list(headshot_ids))
        selection["headshots"] = sorted(headshot_ids)
    if pairs is not None:
        selection["pairs"] = [list(p) for p in pairs]
    if not selection:
        raise ApplicationError("Choose the headshots: a generator version, a generation job, a subject, "
                               "headshot ids or explicit pairs.", code="no_selection")
    headshots = list(headshots.order_by("pk")) if (selection.keys() - {"pairs"}) else []
    if not headshots and not pairs:
        raise ApplicationError("No headshot matches this selection.", code="no_headshots")
    rng = random.Random(seed)
    shown = headshots or list(Headshot.objects.filter(pk__in=[i for p in pairs or [] for i in p])[:1])
    if shown:  # the side of the images as delivered (after any studio stage), for the blind portraits
        selection["image_size"] = _delivered_size(shown[0])
    campaign = Campaign.objects.create(
        name=name.strip(), description=description, task_kinds=task_kinds, overlap=overlap,
        allowed_roles=list(allowed_roles), gold_rate=gold_rate, lease_seconds=lease_seconds,
        selection=selection, pairing=pairing, created_by=created_by, **texts)
    items: list[ReviewItem] = []

    def item(kind: str, head: Headshot | None, **fields: Any) -> ReviewItem:
        return ReviewItem(campaign=campaign, kind=kind, position=0, overlap=overlap,
                          subject_id=fields.pop("subject_id", None) or head.subject_id, headshot=head,
                          **fields)

    if TaskKind.RATING in task_kinds:
        items += [item(TaskKind.RATING, h) for h in headshots]
    pair_list: list[tuple[Headshot, Headshot]] = []
    if TaskKind.PAIRWISE in task_kinds:
        pair_list = _pairs(headshots, pairs, rng, pairs_per_job, pairing)
        if not pair_list:
            raise ApplicationError(NO_PAIRS[pairing], code="no_pairs")
        items += [item(TaskKind.PAIRWISE, a, headshot_b=b) for a, b in pair_list]
    if TaskKind.BLIND in task_kinds:
        generated = headshots or [h for pair in pair_list for h in pair]
        portraits = _portraits({h.subject_id for h in generated}, len(generated), rng)
        if not portraits:
            raise ApplicationError("The blind test needs real portraits: import the face corpus first "
                                   "(manage.py import_face_corpus).", code="no_portraits")
        items += [item(TaskKind.BLIND, h) for h in generated]
        items += [item(TaskKind.BLIND, None, portrait=p, subject_id=p.subject_id) for p in portraits]
    rng.shuffle(items)
    for position, row in enumerate(items):
        row.position = position
    ReviewItem.objects.bulk_create(items)
    items = list(campaign.items.order_by("position"))
    Assignment.objects.bulk_create(
        Assignment(item=row, campaign=campaign, slot=slot) for row in items for slot in range(overlap))
    _gold_items_create(campaign, headshots or [h for pair in pair_list for h in pair], items, rng=rng)
    audit_record(action="campaign.create", target=campaign, actor=created_by,
                 summary=f"{campaign.name}: {len(items)} items, {', '.join(task_kinds)}",
                 detail={"selection": selection})
    return campaign


def _delivered_size(headshot: Headshot) -> int:
    """The side of a headshot's image as delivered (after any studio stage); the version's image size
    when the file cannot be read."""
    try:
        with default_storage.open(headshot.image.name, "rb") as stored:
            return int(Image.open(stored).size[0])
    except (OSError, ValueError):
        return headshot.generator_version.image_size


def gold_count(*, gold_rate: float, regular: int) -> int:
    """Gold items to make for a task kind with ``regular`` items: enough for one reviewer who answers
    every regular item of that kind to get gold at ``gold_rate`` (g = rate·(regular + g)), at least 1."""
    if gold_rate <= 0 or regular <= 0:
        return 0
    return max(1, ceil(gold_rate * regular / (1 - gold_rate)))


def _gold_items_create(campaign: Campaign, headshots: list[Headshot], items: list[ReviewItem],
                       rng: random.Random) -> None:
    """Items with a known answer, for every task kind of the campaign (:func:`gold_count` per kind;
    a reviewer takes each gold item at most once):

    * rating: a headshot deliberately broken (quarters swapped, heavy noise); right: appeal <= 2;
    * pairwise: an intact headshot (a) beside a broken copy of another candidate of the same person
      (b; the same headshot when the person has one); right: the intact one. The sides are
      randomised per assignment like every pair's;
    * blind: a known studio portrait (a real corpus photo, preferably one the campaign's regular
      blind items do not show); right: "studio"."""
    if campaign.gold_rate <= 0 or not headshots:
        return
    position = len(items)
    by_subject: dict[int, list[Headshot]] = {}
    for head in headshots:
        by_subject.setdefault(head.subject_id, []).append(head)
    rows: list[ReviewItem] = []

    def gold(kind: str, **fields: Any) -> None:
        nonlocal position
        rows.append(ReviewItem(campaign=campaign, kind=kind, position=position, is_gold=True, overlap=0,
                               **fields))
        position += 1

    for kind in campaign.task_kinds:
        count = gold_count(gold_rate=campaign.gold_rate, regular=sum(1 for i in items if i.kind == kind))
        if kind == TaskKind.RATING:
            for _ in range(count):
                head = headshots[rng.randrange(len(headshots))]
                gold(kind, subject_id=head.subject_id, headshot=head, gold_answer={"appeal_max": 2},
                     gold_image=_broken_image(head, seed=position))
        elif kind == TaskKind.PAIRWISE:
            for _ in range(count):
                head = headshots[rng.randrange(len(headshots))]
                others = [h for h in by_subject[head.subject_id] if h.pk != head.pk] or [head]
                broken = others[rng.randrange(len(others))]
                gold(kind, subject_id=head.subject_id, headshot=head, headshot_b=broken,
                     gold_answer={"choice": "a"}, gold_image=_broken_image(broken, seed=position))
        elif kind == TaskKind.BLIND:
            shown = [i.portrait_id for i in items if i.kind == TaskKind.BLIND and i.portrait_id]
            subjects = {h.subject_id for h in headshots}
            portraits = _portraits(subjects, count, rng, exclude_photos=shown)
            if len(portraits) < count:  # the corpus is small: the regular items' portraits too
                portraits += _portraits(subjects, count - len(portraits), rng,
                                        exclude_photos=[p.pk for p in portraits])
            for photo in portraits:
                gold(kind, subject_id=photo.subject_id, portrait=photo,
                     gold_answer={"answer": BlindAnswer.STUDIO.value})
    for row in rows:  # the broken images are files: save them with their rows
        row.save()


@transaction.atomic
def campaign_update(*, campaign: Campaign, **fields: Any) -> Campaign:
    """Change the name, description, guidelines, scale anchors, lease or status (open/closed)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if "lease_seconds" in fields and fields["lease_seconds"] not in LEASE_SECONDS:
        raise ApplicationError(LEASE_MESSAGE, code="invalid",
                               extra={"fields": {"lease_seconds": ["Out of range."]}})
    errors: dict[str, list[str]] = {}
    texts = _validate_texts(errors, fields)
    if errors:
        raise ApplicationError("The campaign settings are not valid.", code="invalid",
                               extra={"fields": errors})
    fields = {**fields, **texts}
    changed = [key for key in ("name", "description", "lease_seconds", "guidelines", "scale_anchors")
               if key in fields and fields[key] != getattr(campaign, key)]
    for key in changed:
        setattr(campaign, key, fields[key])
    status_changed = "status" in fields and fields["status"] != campaign.status
    if status_changed:
        if fields["status"] not in CampaignStatus.values:
            raise ApplicationError("Status is open or closed.", code="invalid")
        campaign.status = fields["status"]
        campaign.closed_at = timezone.now() if campaign.status == CampaignStatus.CLOSED else None
    campaign.save()
    if changed:
        audit_record(action="campaign.update", target=campaign, summary=f"changed {', '.join(changed)}",
                     detail={"fields": changed})
    if status_changed:
        closed = campaign.status == CampaignStatus.CLOSED
        audit_record(action="campaign.close" if closed else "campaign.reopen", target=campaign,
                     summary=f"{campaign.name} {'closed' if closed else 'reopened'}")
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign) -> None:
    """Delete a campaign that has no answers yet (one with answers is closed instead)."""
    if Assignment.objects.filter(campaign=campaign, submitted_at__isnull=False).exists():
        raise Conflict("This campaign already has answers: close it instead of deleting it.",
                       code="campaign_has_answers")
    audit_record(action="campaign.delete", target=campaign, summary=f"{campaign.name} deleted (no answers)")
    for row in campaign.items.exclude(gold_image=""):
        row.gold_image.delete(save=False)
    campaign.delete()


# --- Handing out work -----------------------------------------------------------------------------


def can_take(user: Any, campaign: Campaign) -> bool:
    return has_role(user, [Role(r) for r in campaign.allowed_roles])


def _check_can_take(user: Any, campaign: Campaign) -> None:
    if not can_take(user, campaign):
        raise Forbidden("This campaign is for: " + ", ".join(campaign.allowed_roles) + ".",
                        code="role_not_allowed")
    if not campaign.is_open:
        raise Conflict("This campaign is closed.", code="campaign_closed")


def _lease(campaign: Campaign, now: datetime) -> dict[str, Any]:
    return {"leased_at": now, "lease_expires_at": now + timedelta(seconds=campaign.lease_seconds)}


def _gold_due(campaign: Campaign, counts: dict[tuple[str, bool, bool], int]) -> list[str]:
    """The task kinds whose gold the reviewer is due, most behind first, from their own counts
    (``review.loop_sql.loop_state``):
    a kind is due when the reviewer's gold share *of that kind* is below the campaign's rate after
    one more item (``gold_k + 1 <= rate · (items_k + 1)``, items_k counting every item of kind k they
    were handed, gold included). Kinds they have not worked on are never due (items_k = 0: 1 > rate)."""
    if campaign.gold_rate <= 0:
        return []
    total: dict[str, int] = defaultdict(int)
    gold: dict[str, int] = defaultdict(int)
    for (kind, is_gold, _), n in counts.items():
        total[kind] += n
        if is_gold:
            gold[kind] += n
    due = [k for k in campaign.task_kinds if gold[k] + 1 <= campaign.gold_rate * (total[k] + 1)]
    return sorted(due, key=lambda k: gold[k] / (total[k] + 1))


def _gold_claim(campaign: Campaign, reviewer: Any, now: datetime, kind: str) -> Assignment | None:
    """A gold item of ``kind`` the reviewer has not had (never one about their own subject)."""
    candidates = (ReviewItem.objects.filter(campaign=campaign, is_gold=True, kind=kind)
                  .exclude(subject__owner=reviewer)
                  .exclude(assignments__reviewer=reviewer).exclude(skips__reviewer=reviewer)
                  .order_by("position"))
    for row in candidates[:MAX_CLAIM_TRIES]:
        try:
            with transaction.atomic():
                return Assignment.objects.create(item=row, campaign=campaign, reviewer=reviewer, claims=1,
                                                 swapped=random.random() < 0.5, **_lease(campaign, now))
        except IntegrityError:
            continue  # the same reviewer's other request took it a moment ago
    return None


def _regular_claim(campaign: Campaign, reviewer: Any, now: datetime) -> Assignment | None:
    """Claim the first free slot for ``reviewer`` (``claim_sql``: one statement, atomic on both
    databases)."""
    sql = claim_sql(connection.features.has_select_for_update_skip_locked)
    lease = _lease(campaign, now)
    for _ in range(MAX_CLAIM_TRIES):
        params = {"campaign": campaign.pk, "reviewer": reviewer.pk, "swapped": random.random() < 0.5,
                  "now": connection.ops.adapt_datetimefield_value(now),
                  "expires": connection.ops.adapt_datetimefield_value(lease["lease_expires_at"])}
        # One statement is atomic on its own: no BEGIN and COMMIT round trips around it; inside the
        # caller's transaction a savepoint keeps that transaction usable when the claim is refused.
        guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        try:
            with guard:
                claimed = list(Assignment.objects.raw(sql, params))
        except IntegrityError:
            continue  # this reviewer's parallel request holds another slot of the item: next slot
        # One statement: the pick and the update see the same rows (PostgreSQL: the picked row is
        # locked; SQLite: one writer), so an empty result means no slot is free for them now.
        return claimed[0] if claimed else None
    return None


def assignment_next(*, campaign: Campaign, reviewer: Any, now: datetime | None = None) -> Assignment | None:
    """The reviewer's next piece of work in ``campaign``, or None when there is none for them.

    A lease the reviewer still holds comes back first (a reload never skips an item); their own
    lapsed slot is renewed if nobody took it. Then a gold item when the reviewer's gold share is
    below the campaign's rate; then the first free slot, in the campaign's shuffled order, of an
    item they have not had, that still needs answers and is not about their own subject."""
    now = now or timezone.now()
    _check_can_take(reviewer, campaign)
    state = loop_state(campaign_id=campaign.pk, reviewer_id=reviewer.pk, progress=False)
    return _next_for(campaign, reviewer, now, state.counts)[0]


def assignment_next_with_progress(*, campaign: Campaign, reviewer: Any, now: datetime | None = None
                                  ) -> tuple[Assignment | None, dict[str, Any]]:
    """``assignment_next`` and the reviewer's progress after it (``reviewer_progress``'s figures),
    both from one statement read before the claim: a newly claimed regular item moves from the items
    still available to them to the ones they hold, a gold item adds one held, and a lease they
    already held changes nothing."""
    now = now or timezone.now()
    _check_can_take(reviewer, campaign)
    state = loop_state(campaign_id=campaign.pk, reviewer_id=reviewer.pk, progress=True)
    assignment, how = _next_for(campaign, reviewer, now, state.counts)
    held, available = state.held, state.available
    if how == "claimed":
        held, available = held + 1, available - 1
    elif how == "gold":
        held += 1
    return assignment, progress_figures(state, held=held, available=available)


def _next_for(campaign: Campaign, reviewer: Any, now: datetime, counts: dict[tuple[str, bool, bool], int]
              ) -> tuple[Assignment | None, str]:
    """``assignment_next`` from the reviewer's own counts; the assignment and how it came: "held"
    (their lease), "gold", "claimed" (a regular slot) or "" (none)."""
    holds_one = any(still_open for _, _, still_open in counts)
    held = (Assignment.objects.filter(campaign=campaign, reviewer=reviewer, submitted_at__isnull=True)
            .select_related("item").order_by("leased_at") if holds_one else [])
    for mine in held:
        if mine.lease_expires_at and mine.lease_expires_at >= now:
            return mine, "held"
        renewed = Assignment.objects.filter(pk=mine.pk, reviewer=reviewer, submitted_at__isnull=True).update(
            **_lease(campaign, now))
        if renewed:
            mine.refresh_from_db()
            return mine, "held"
    for kind in _gold_due(campaign, counts):
        gold = _gold_claim(campaign, reviewer, now, kind)
        if gold is not None:
            return gold, "gold"
    claimed = _regular_claim(campaign, reviewer, now)
    return claimed, "claimed" if claimed is not None else ""


# --- Answers --------------------------------------------------------------------------------------


def _reviewer_role(user: Any) -> str:
    return Role.PHOTOGRAPHER.value if Role.PHOTOGRAPHER in user_roles(user) else Role.REVIEWER.value


def _own_assignment(*, assignment_id: int, reviewer: Any) -> Assignment:
    """The reviewer's assignment, locked; a 404 when there is none, 403 when it is someone else's,
    409 when its campaign is closed."""
    try:
        assignment = (Assignment.objects.select_for_update(of=("self",))
                      .select_related("item", "campaign").get(pk=assignment_id))
    except Assignment.DoesNotExist:
        raise NotFound(f"There is no assignment {assignment_id}.") from None
    if assignment.reviewer_id != reviewer.pk:
        raise Forbidden("This assignment is not yours (it may have been handed to someone else after "
                        "your lease ran out).", code="not_your_assignment")
    if not assignment.campaign.is_open:
        raise Conflict("This campaign is closed.", code="campaign_closed")
    return assignment


def _locked_assignment(*, assignment_id: int, reviewer: Any, kind: str, now: datetime) -> Assignment:
    assignment = _own_assignment(assignment_id=assignment_id, reviewer=reviewer)
    if assignment.item.kind != kind:
        raise ApplicationError(f"Assignment {assignment_id} is a {assignment.item.kind} task, not {kind}.",
                               code="wrong_task_kind")
    if assignment.submitted_at is None and assignment.lease_expires_at < now:
        raise Conflict("Your lease on this item ran out; ask for the next item to continue.",
                       code="assignment_expired")
    return assignment


def _note(reviewer: Any, expert_note: str) -> str:
    if expert_note.strip() and Role.PHOTOGRAPHER not in user_roles(reviewer):
        raise ApplicationError("Expert notes are for photographers.", code="not_a_photographer",
                               extra={"fields": {"expert_note": ["Only photographers add expert notes."]}})
    return expert_note.strip()


def _time_spent(value: int | None) -> int | None:
    if value is None:
        return None
    if not 0 <= value <= 24 * 3600 * 1000:
        raise ApplicationError("time_spent_ms must be between 0 and one day.", code="invalid",
                               extra={"fields": {"time_spent_ms": ["Out of range."]}})
    return value


def _answered(assignment: Assignment, now: datetime) -> None:
    """Mark the slot answered and count the answer on its item (one statement on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(ANSWERED_SQL, {"assignment": assignment.pk,
                                          "now": connection.ops.adapt_datetimefield_value(now)})
        return
    Assignment.objects.filter(pk=assignment.pk).update(submitted_at=now)
    ReviewItem.objects.filter(pk=assignment.item_id).update(answers=F("answers") + 1)


def _repeat(model: type, assignment: Assignment, same: dict[str, Any]) -> Any:
    existing = model.objects.get(assignment=assignment)
    if all(getattr(existing, key) == value for key, value in same.items()):
        return existing
    raise Conflict("You already answered this item differently; an answer cannot be changed.",
                   code="already_answered")


def _is_score(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value in SCORES


def _check(errors: dict[str, list[str]], what: str) -> None:
    if errors:
        raise ApplicationError(f"The {what} is not valid.", code="invalid", extra={"fields": errors})


def _answer_store(*, model: type, assignment: Assignment, reviewer: Any, answer: dict[str, Any],
                  time_spent_ms: int | None, now: datetime, **fields: Any) -> tuple[Any, bool]:
    """Store an answer once; returns (row, created). The same answer again returns the stored row,
    a different one is a conflict."""
    if assignment.submitted_at is not None:
        return _repeat(model, assignment, answer), False
    row = model.objects.create(
        assignment=assignment, item=assignment.item, campaign=assignment.campaign, reviewer=reviewer,
        reviewer_role=_reviewer_role(reviewer), time_spent_ms=_time_spent(time_spent_ms), **fields, **answer)
    _answered(assignment, now)
    return row, True


@transaction.atomic
def rating_submit(*, reviewer: Any, assignment_id: int, professionalism: int, likeness: int, appeal: int,
                  flags: Sequence[str] = (), comment: str = "", expert_note: str = "",
                  time_spent_ms: int | None = None, now: datetime | None = None) -> tuple[Rating, bool]:
    """Store a rating; returns (rating, created). The same answer twice is stored once."""
    now = now or timezone.now()
    scores = {"professionalism": professionalism, "likeness": likeness, "appeal": appeal}
    errors = {k: [f"A score from {SCORES[0]} to {SCORES[-1]}."]
              for k, v in scores.items() if not _is_score(v)}
    unknown = [f for f in flags if f not in ArtefactFlag.values]
    if unknown:
        errors["flags"] = [f"Unknown flag(s): {', '.join(map(str, unknown))}. Known: "
                           f"{', '.join(ArtefactFlag.values)}."]
    _check(errors, "rating")
    assignment = _locked_assignment(assignment_id=assignment_id, reviewer=reviewer, kind=TaskKind.RATING,
                                    now=now)
    answer = {**scores, "flags": sorted(set(flags)), "comment": comment.strip(),
              "expert_note": _note(reviewer, expert_note)}
    return _answer_store(model=Rating, assignment=assignment, reviewer=reviewer, answer=answer,
                         time_spent_ms=time_spent_ms, now=now, headshot_id=assignment.item.headshot_id)


def shown_pair(assignment: Assignment) -> tuple[int, int]:
    """(left, right) headshot ids as the reviewer sees them."""
    a, b = assignment.item.headshot_id, assignment.item.headshot_b_id
    return (b, a) if assignment.swapped else (a, b)


@transaction.atomic
def comparison_submit(*, reviewer: Any, assignment_id: int, choice: str, reason: str = "",
                      left: int | None = None, right: int | None = None, expert_note: str = "",
                      time_spent_ms: int | None = None,
                      now: datetime | None = None) -> tuple[Comparison, bool]:
    """Store a pairwise choice (left, right or tie as shown); returns (comparison, created)."""
    now = now or timezone.now()
    errors = {}
    if choice not in Choice.values:
        errors["choice"] = [f"Choose one of: {', '.join(Choice.values)}."]
    if reason and reason not in ChoiceReason.values:
        errors["reason"] = [f"Choose one of: {', '.join(ChoiceReason.values)}, or leave it empty."]
    _check(errors, "comparison")
    assignment = _locked_assignment(assignment_id=assignment_id, reviewer=reviewer, kind=TaskKind.PAIRWISE,
                                    now=now)
    shown = shown_pair(assignment)
    if (left, right) != (None, None) and (left, right) != shown:
        subjects = set(Headshot.objects.filter(pk__in=[left, right]).values_list("subject_id", flat=True))
        if len(subjects) > 1:
            raise ApplicationError("These two headshots show different people: a comparison is between two "
                                   "headshots of the same subject.", code="pair_different_subjects")
        raise ApplicationError(f"This assignment shows headshots {shown[0]} (left) and {shown[1]} (right).",
                               code="wrong_pair")
    winner = "tie" if choice == Choice.TIE else (
        "a" if (choice == Choice.LEFT) != assignment.swapped else "b")
    answer = {"choice": choice, "reason": reason, "expert_note": _note(reviewer, expert_note)}
    return _answer_store(model=Comparison, assignment=assignment, reviewer=reviewer, answer=answer,
                         time_spent_ms=time_spent_ms, now=now, left_id=shown[0], right_id=shown[1],
                         winner=winner)


@transaction.atomic
def blind_submit(*, reviewer: Any, assignment_id: int, answer: str, confidence: int, expert_note: str = "",
                 time_spent_ms: int | None = None,
                 now: datetime | None = None) -> tuple[BlindJudgement, bool]:
    """Store a blind-test judgement ("ai" or "studio", confidence 1–5); returns (judgement, created)."""
    now = now or timezone.now()
    errors = {}
    if answer not in BlindAnswer.values:
        errors["answer"] = [f"Choose one of: {', '.join(BlindAnswer.values)}."]
    if not _is_score(confidence):
        errors["confidence"] = [f"A confidence from {SCORES[0]} (guessing) to {SCORES[-1]} (certain)."]
    _check(errors, "judgement")
    assignment = _locked_assignment(assignment_id=assignment_id, reviewer=reviewer, kind=TaskKind.BLIND,
                                    now=now)
    fields = {"answer": answer, "confidence": confidence, "expert_note": _note(reviewer, expert_note)}
    generated = assignment.item.is_generated
    return _answer_store(model=BlindJudgement, assignment=assignment, reviewer=reviewer, answer=fields,
                         time_spent_ms=time_spent_ms, now=now, is_generated=generated,
                         correct=(answer == BlindAnswer.AI) == generated)


# --- Pair diversity -------------------------------------------------------------------------------

PAIR_DIVERSITY = "pair_diversity"


# --- Skip and undo --------------------------------------------------------------------------------

ANSWER_MODELS: dict[str, type] = {TaskKind.RATING: Rating, TaskKind.PAIRWISE: Comparison,
                                  TaskKind.BLIND: BlindJudgement}
#: What an undone answer gives back to the page, per kind (the fields the reviewer had filled in).
UNDO_FIELDS: dict[str, tuple[str, ...]] = {
    TaskKind.RATING: (*RATING_DIMENSIONS, "flags", "comment", "expert_note"),
    TaskKind.PAIRWISE: ("choice", "reason", "expert_note"),
    TaskKind.BLIND: ("answer", "confidence", "expert_note"),
}


@transaction.atomic
def assignment_skip(*, reviewer: Any, assignment_id: int, reason: str = "") -> Skip:
    """Pass on an item without answering: the skip is recorded, the slot goes back to the pool (a gold
    item's slot, made for this reviewer, is dropped) and the item is never handed to this reviewer
    again. Skipping the same item twice returns the first record."""
    assignment = _own_assignment(assignment_id=assignment_id, reviewer=reviewer)
    if assignment.submitted_at is not None:
        raise Conflict("This item is answered already: undo the answer instead of skipping it.",
                       code="already_answered")
    if len(reason) > SKIP_REASON_MAX_LENGTH:
        raise ApplicationError(f"A skip reason has at most {SKIP_REASON_MAX_LENGTH} characters.",
                               code="invalid", extra={"fields": {"reason": ["Too long."]}})
    skip, _ = Skip.objects.get_or_create(item=assignment.item, reviewer=reviewer,
                                         defaults={"campaign": assignment.campaign, "reason": reason.strip()})
    if assignment.slot is None:
        assignment.delete()
    else:
        Assignment.objects.filter(pk=assignment.pk).update(reviewer=None, leased_at=None,
                                                           lease_expires_at=None, swapped=False)
    return skip


@transaction.atomic
def answer_undo(*, reviewer: Any, assignment_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Take back the reviewer's last answer in a campaign while the item's lease still holds: the
    answer is deleted, the item counts one answer fewer and is the reviewer's to answer again (it
    comes back first from ``assignment_next``). Returns the kind and the fields that were given, so
    the page can show them again."""
    now = now or timezone.now()
    assignment = _own_assignment(assignment_id=assignment_id, reviewer=reviewer)
    if assignment.submitted_at is None:
        raise Conflict("This item has no answer to undo.", code="not_answered")
    last = (Assignment.objects.filter(campaign=assignment.campaign, reviewer=reviewer,
                                      submitted_at__isnull=False)
            .order_by("-submitted_at", "-pk").values_list("pk", flat=True).first())
    if last != assignment.pk:
        raise Conflict("Only your last answer can be undone.", code="not_last_answer")
    if assignment.lease_expires_at is None or assignment.lease_expires_at < now:
        raise Conflict("The time on this item has run out: its answer can no longer be undone.",
                       code="undo_expired")
    kind = assignment.item.kind
    answer = ANSWER_MODELS[kind].objects.get(assignment=assignment)
    given = {name: getattr(answer, name) for name in UNDO_FIELDS[kind]}
    if kind == TaskKind.PAIRWISE:  # the choice as the reviewer saw it (left/right on their screen)
        given["choice"] = answer.choice
    answer.delete()
    Assignment.objects.filter(pk=assignment.pk).update(submitted_at=None)
    ReviewItem.objects.filter(pk=assignment.item_id).update(answers=F("answers") - 1)
    return {"assignment": assignment.pk, "kind": kind, "answer": given}


def _pair_key(items: Sequence[ReviewItem]) -> str:
    """Which pairs a cached figure was measured on (changes when a pairwise item goes away)."""
    text = ",".join(f"{i.pk}:{i.headshot_id}:{i.headshot_b_id}" for i in items)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def campaign_diversity_measure(*, campaign: Campaign, metric: Any = None,
                               force: bool = False) -> dict[str, Any]:
    """The mean LPIPS between the two headshots of each regular pairwise item of ``campaign`` (0 = the
    two are identical; higher = easier to tell apart), with its n (pairs), extractor and a 95 %
    bootstrap interval over the pairs, measured once and cached on ``campaign.pair_diversity``.

    Lazy: the first read of the campaign's report measures it; later reads get the cached figure until
    the pairwise items change (a deleted headshot takes its items along) or ``force``. ``metric`` is an
    ``hfplatform.ml.lpips.LpipsMetric`` (default: one on ``settings.TORCH_HOME``, as monitoring uses);
    without its weights the figure says "unavailable: <reason>" and nothing is cached. Images are
    compared at the first headshot's stored size (the second is resized to it when they differ)."""
    from hfplatform.ml import LpipsMetric, MetricValue, WeightsUnavailable, bootstrap_interval

    items = list(ReviewItem.objects.filter(campaign=campaign, kind=TaskKind.PAIRWISE, is_gold=False)
                 .select_related("headshot", "headshot_b").order_by("pk"))
    key = _pair_key(items)
    cached = campaign.pair_diversity or {}
    if cached.get("pairs_key") == key and not force:
        return cached
    if not items:
        return MetricValue.missing(PAIR_DIVERSITY, "the campaign has no pairwise items").to_json()
    if metric is None:
        try:
            metric = LpipsMetric(Path(settings.TORCH_HOME))
        except WeightsUnavailable as exc:
            return MetricValue.missing(PAIR_DIVERSITY, str(exc), len(items)).to_json()
    firsts = [stored_rgb(i.headshot.image.name) for i in items]
    seconds = [stored_rgb(i.headshot_b.image.name) for i in items]
    distances = np.asarray(metric.lpips_images(firsts, seconds), dtype=np.float64)
    figure = MetricValue(name=PAIR_DIVERSITY, value=float(distances.mean()), n=len(items),
                         extractor=metric.name, interval=bootstrap_interval(distances, seed=campaign.pk))
    stored = {**figure.to_json(), "pairs_key": key, "measured_at": timezone.now().isoformat()}
    Campaign.objects.filter(pk=campaign.pk).update(pair_diversity=stored)
    campaign.pair_diversity = stored
    return stored


__all__ = ["RATING_DIMENSIONS", "assignment_next", "blind_submit", "campaign_create", "campaign_delete",
           "campaign_diversity_measure", "campaign_update", "comparison_submit", "gold_count", "pair_draw",
           "rating_submit", "shown_pair"]
