"""The campaign form of the review pages (the API validates the same fields in review/apis.py)."""

from __future__ import annotations

from django import forms

from generation.models import GenerationJob, GeneratorVersion, Headshot, Subject
from hfplatform.accounts.roles import GROUP_ROLES
from review.models import Pairing, TaskKind
from review.options import (
    DEFAULT_GOLD_RATE,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_OVERLAP,
    DEFAULT_ROLES,
    DEFAULT_SCALE_ANCHORS,
    GOLD_RATE,
    GUIDELINES_MAX_LENGTH,
    LEASE_SECONDS,
    OVERLAP,
    SCALE_ANCHOR_MAX_LENGTH,
    SCORES,
)

PICKER_LIMIT = 200


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    task_kinds = forms.MultipleChoiceField(choices=TaskKind.choices, widget=forms.CheckboxSelectMultiple,
                                           initial=[TaskKind.RATING])
    generator_version = forms.ModelChoiceField(GeneratorVersion.objects.all(), to_field_name="name",
                                               required=False, empty_label="any version")
    generator_versions = forms.ModelMultipleChoiceField(
        GeneratorVersion.objects.all(), to_field_name="name", required=False,
        help_text="Headshots of any of these versions (e.g. to pair across versions).")
    generation_job = forms.ModelChoiceField(
        GenerationJob.objects.none(), required=False, empty_label="any generation job",
        help_text="Only this generation job (the newest 200 with kept headshots).")
    subject = forms.ModelChoiceField(Subject.objects.none(), required=False, empty_label="any subject",
                                     help_text="Only this person's headshots.")
    pairing = forms.ChoiceField(choices=Pairing.choices, initial=Pairing.WITHIN_JOB,
                                help_text="Which two headshots of one person a pairwise item shows.")
    overlap = forms.IntegerField(initial=DEFAULT_OVERLAP, min_value=OVERLAP[0], max_value=OVERLAP[-1],
                                 help_text="Distinct reviewers per item.")
    allowed_roles = forms.MultipleChoiceField(choices=[(r.value, r.value) for r in GROUP_ROLES],
                                              widget=forms.CheckboxSelectMultiple,
                                              initial=list(DEFAULT_ROLES))
    gold_rate = forms.FloatField(initial=DEFAULT_GOLD_RATE, min_value=GOLD_RATE[0], max_value=GOLD_RATE[1],
                                 help_text="Share of each reviewer's items with a known answer.")
    lease_seconds = forms.IntegerField(initial=DEFAULT_LEASE_SECONDS, min_value=LEASE_SECONDS[0],
                                       max_value=LEASE_SECONDS[-1],
                                       help_text="Seconds an item is held before it returns to the pool.")
    guidelines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=GUIDELINES_MAX_LENGTH,
        help_text="What reviewers should look for, in Markdown (headings, lists, bold, links). Shown on "
                  "their first visit and whenever they press ?.")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Pickers instead of typed ids: only what has headshots to review.
        with_headshots = Headshot.objects.filter(kept=True)
        newest = list(GenerationJob.objects.filter(pk__in=with_headshots.values("generation_job"))
                      .order_by("-pk").values_list("pk", flat=True)[:PICKER_LIMIT])
        jobs = GenerationJob.objects.filter(pk__in=newest).select_related("subject", "generator_version")
        self.fields["generation_job"].queryset = jobs.order_by("-pk")
        self.fields["generation_job"].label_from_instance = lambda job: (
            f"#{job.pk} · {job.subject.display_name} · {job.generator_version.name} · "
            f"{job.created_at:%Y-%m-%d %H:%M}")
        self.fields["subject"].queryset = (Subject.objects.filter(pk__in=with_headshots.values("subject"))
                                           .order_by("display_name", "pk"))
        for n in SCORES:  # words under the points of the 1–5 scales
            self.fields[f"anchor_{n}"] = forms.CharField(
                required=False, max_length=SCALE_ANCHOR_MAX_LENGTH, label=f"Scale point {n} means",
                initial=DEFAULT_SCALE_ANCHORS.get(str(n), ""))

    def clean(self) -> dict[str, object]:
        """The five anchor fields become ``scale_anchors`` for the service."""
        data = super().clean()
        data["scale_anchors"] = {str(n): data.pop(f"anchor_{n}", "") or "" for n in SCORES}
        return data
