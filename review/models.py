"""Review campaigns, the work items in them, who holds which slot, and the answers.

A :class:`Campaign` is a set of :class:`ReviewItem` rows (a headshot to rate, a pair to compare, an
image for the blind test). Each regular item has ``overlap`` :class:`Assignment` slots made up
front; a reviewer claims a free slot with one conditional UPDATE (atomic on SQLite and PostgreSQL),
so an item never has more reviewers than its overlap. A slot whose lease ran out without an answer
goes back to the pool. Gold items (known answer) have no slot limit: every reviewer gets them at
the campaign's rate, on a slot made for them. Answers are one row per slot: :class:`Rating`,
:class:`Comparison` or :class:`BlindJudgement`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from review.options import DEFAULT_GOLD_RATE, DEFAULT_LEASE_SECONDS, DEFAULT_OVERLAP, DEFAULT_SCALE_ANCHORS


class TaskKind(models.TextChoices):
    RATING = "rating", "Rating"
    PAIRWISE = "pairwise", "Pairwise choice"
    BLIND = "blind", "Blind test (AI or studio?)"


class CampaignStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ArtefactFlag(models.TextChoices):
    """What can be wrong with a generated face; ``key`` is the keyboard letter in the rating page."""

    ASYMMETRY = "asymmetry", "Asymmetric features"
    EYES = "eyes", "Eyes / gaze"
    TEETH = "teeth", "Teeth"
    HAIR = "hair", "Hair edges"
    SKIN = "skin", "Skin texture / uncanny smoothing"
    BACKGROUND = "background", "Background seam or disconnection"
    LIGHTING = "lighting", "Lighting inconsistency"
    COLOUR = "colour", "Colour cast"


#: Keyboard letters of the flags. One letter means one thing on every kind of item (docs/review.md,
#: "Keys"): P, L, A are the three dimensions (a rating's scale, a pairwise reason), X, U, Z, N the work
#: page's skip, undo, zoom and note; so asymmetry is Y and lighting I.
FLAG_KEYS: dict[str, str] = {
    ArtefactFlag.ASYMMETRY: "y", ArtefactFlag.EYES: "e", ArtefactFlag.TEETH: "t",
    ArtefactFlag.HAIR: "h", ArtefactFlag.SKIN: "s", ArtefactFlag.BACKGROUND: "b",
    ArtefactFlag.LIGHTING: "i", ArtefactFlag.COLOUR: "c",
}
#: The work page's own keys, which no flag may take.
PAGE_KEYS: dict[str, str] = {"p": "professionalism", "l": "likeness", "a": "appeal", "x": "skip",
                             "u": "undo", "z": "zoom", "n": "note"}

#: The three 1–5 scales of a rating, in the order the page shows them.
RATING_DIMENSIONS: tuple[str, ...] = ("professionalism", "likeness", "appeal")


class Choice(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    TIE = "tie", "Can't tell"


class ChoiceReason(models.TextChoices):
    PROFESSIONAL = "professional", "More professional"
    LIKENESS = "likeness", "Better likeness"
    APPEAL = "appeal", "More appealing"


class BlindAnswer(models.TextChoices):
    AI = "ai", "AI-generated"
    STUDIO = "studio", "Studio photograph"


class Pairing(models.TextChoices):
    """Which two headshots a campaign's pairwise items put side by side (always one person's, kept ones)."""

    WITHIN_JOB = "within_job", "Candidates of one generation job"
    ACROSS_VERSIONS = "across_versions", "One person's headshots from two generator versions"
    ANY = "any", "Any two headshots of one person (jobs, versions, guidance, samplers)"


def default_scale_anchors() -> dict[str, str]:
    return dict(DEFAULT_SCALE_ANCHORS)


class Campaign(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    task_kinds = models.JSONField(default=list, help_text="Subset of rating, pairwise, blind.")
    overlap = models.PositiveSmallIntegerField(default=DEFAULT_OVERLAP,
                                               help_text="Distinct reviewers per item.")
    allowed_roles = models.JSONField(default=list, help_text="Roles that may take the campaign.")
    gold_rate = models.FloatField(default=DEFAULT_GOLD_RATE,
                                  help_text="Share of a reviewer's items that are gold.")
    lease_seconds = models.PositiveIntegerField(default=DEFAULT_LEASE_SECONDS)
    selection = models.JSONField(default=dict, blank=True,
                                 help_text="How the headshots were chosen (version, job, subject).")
    pairing = models.CharField(max_length=16, choices=Pairing.choices, default=Pairing.WITHIN_JOB,
                               help_text="How pairwise items were drawn from the chosen headshots.")
    pair_diversity = models.JSONField(
        default=dict, blank=True,
        help_text="Mean LPIPS between the two headshots of each pairwise item, measured once and cached "
                  "(review.services.campaign_diversity_measure).")
    guidelines = models.TextField(blank=True, help_text="What reviewers should look for (Markdown; raw HTML "
                                                        "is shown as text).")
    scale_anchors = models.JSONField(default=default_scale_anchors, blank=True,
                                     help_text="Words for points of the 1–5 scales, e.g. {\"1\": \"not "
                                               "usable\", \"5\": \"studio quality\"}.")
    status = models.CharField(max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.status == CampaignStatus.OPEN


def _item_path(item: ReviewItem, filename: str) -> str:
    return f"review/campaign-{item.campaign_id}/{filename}"


class ReviewItem(models.Model):
    """One unit of work. Rating: ``headshot``. Pairwise: ``headshot`` and ``headshot_b`` (same
    subject). Blind: ``headshot`` (generated) or ``portrait`` (a real corpus photo). A gold item
    may show ``gold_image`` (a deliberately broken picture) in place of one side."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=TaskKind.choices)
    position = models.PositiveIntegerField(help_text="Shuffled order in which items are handed out.")
    subject = models.ForeignKey("generation.Subject", on_delete=models.CASCADE, related_name="+")
    headshot = models.ForeignKey("generation.Headshot", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="review_items")
    headshot_b = models.ForeignKey("generation.Headshot", null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="review_items_b")
    portrait = models.ForeignKey("generation.SourcePhoto", null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    gold_image = models.FileField(upload_to=_item_path, max_length=300, blank=True)
    is_gold = models.BooleanField(default=False)
    gold_answer = models.JSONField(default=dict, blank=True,
                                   help_text="rating: {'appeal_max': 2}; pairwise: {'choice': 'a'|'b'|'tie'}")
    overlap = models.PositiveSmallIntegerField(help_text="Answers needed (gold: not limited).")
    answers = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "position"]
        indexes = [models.Index(fields=["campaign", "kind", "is_gold", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="pairwise") | Q(headshot__isnull=False, headshot_b__isnull=False),
                name="review_item_pair_has_two"),
            models.CheckConstraint(
                condition=~Q(kind="rating") | Q(headshot__isnull=False),
                name="review_item_rating_has_headshot"),
            models.CheckConstraint(
                condition=~Q(kind="blind") | Q(headshot__isnull=False) | Q(portrait__isnull=False),
                name="review_item_blind_has_image"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} item {self.pk}"

    @property
    def is_generated(self) -> bool:
        """For the blind test: the truth."""
        return self.portrait_id is None


class Assignment(models.Model):
    """A slot on an item: free (no reviewer), leased (reviewer, lease running), or answered."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="assignments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    slot = models.PositiveSmallIntegerField(null=True, blank=True, help_text="None on gold items.")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="review_assignments")
    leased_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    swapped = models.BooleanField(default=False, help_text="Pairwise: headshot_b shown on the left.")
    claims = models.PositiveIntegerField(default=0, help_text="How often the slot was claimed.")

    class Meta:
        ordering = ["item", "slot", "id"]
        indexes = [
            models.Index(fields=["campaign", "reviewer", "submitted_at"]),
            models.Index(fields=["campaign", "submitted_at", "lease_expires_at"]),
            # The free-slot walk of assignment_next: never-claimed slots of a campaign in id order.
            models.Index(fields=["campaign", "id"], condition=Q(reviewer__isnull=True),
                         name="assignment_free_slot"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["item", "reviewer"], condition=Q(reviewer__isnull=False),
                                    name="assignment_one_per_reviewer_and_item"),
            models.UniqueConstraint(fields=["item", "slot"], condition=Q(slot__isnull=False),
                                    name="assignment_unique_slot"),
        ]

    def __str__(self) -> str:
        return f"Assignment {self.pk} ({self.item})"


class Skip(models.Model):
    """A reviewer passed on an item without answering: the item went back to the pool (a gold item's
    slot was dropped) and is never handed to them again."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="skips")
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="skips")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "reviewer"])]
        constraints = [models.UniqueConstraint(fields=["item", "reviewer"], name="skip_once_per_item")]

    def __str__(self) -> str:
        return f"Skip of {self.item} by {self.reviewer_id}"


class Answer(models.Model):
    """What every answer records: who, in which role, when and how long it took."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reviewer_role = models.CharField(max_length=16, help_text="reviewer or photographer, when answered.")
    time_spent_ms = models.PositiveIntegerField(null=True, blank=True)
    expert_note = models.TextField(blank=True, help_text="Photographers only.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class Rating(Answer):
    headshot = models.ForeignKey("generation.Headshot", on_delete=models.CASCADE, related_name="ratings")
    professionalism = models.PositiveSmallIntegerField()
    likeness = models.PositiveSmallIntegerField()
    appeal = models.PositiveSmallIntegerField()
    flags = models.JSONField(default=list, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(professionalism__gte=1, professionalism__lte=5, likeness__gte=1,
                            likeness__lte=5, appeal__gte=1, appeal__lte=5),
                name="rating_scores_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"Rating {self.pk} of headshot {self.headshot_id}"


class Comparison(Answer):
    """``left``/``right`` are what the reviewer saw; ``winner`` is in the item's terms (a, b, tie)."""

    left = models.ForeignKey("generation.Headshot", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("generation.Headshot", on_delete=models.CASCADE, related_name="+")
    choice = models.CharField(max_length=8, choices=Choice.choices)
    winner = models.CharField(max_length=4, help_text="a, b or tie relative to the item.")
    reason = models.CharField(max_length=16, choices=ChoiceReason.choices, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Comparison {self.pk} ({self.winner})"


class BlindJudgement(Answer):
    answer = models.CharField(max_length=8, choices=BlindAnswer.choices)
    confidence = models.PositiveSmallIntegerField(help_text="1 (guessing) to 5 (certain).")
    is_generated = models.BooleanField(help_text="The truth: a generated headshot.")
    correct = models.BooleanField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(confidence__gte=1, confidence__lte=5),
                                   name="blind_confidence_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"Blind judgement {self.pk} ({self.answer})"
