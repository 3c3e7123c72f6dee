"""The campaign form of the review pages (the API validates the same fields in review/apis.py)."""

from __future__ import annotations

from django import forms

from generation.models import GeneratorVersion
from hfplatform.accounts.roles import GROUP_ROLES
from review.models import Pairing, TaskKind
from review.options import (
    DEFAULT_GOLD_RATE,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_OVERLAP,
    DEFAULT_ROLES,
    GOLD_RATE,
    LEASE_SECONDS,
    OVERLAP,
)


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
    generation_job = forms.IntegerField(required=False, min_value=1, help_text="Only this generation job.")
    subject = forms.IntegerField(required=False, min_value=1, help_text="Only this subject.")
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
