"""The campaign form of the review pages (the API validates the same fields in review/apis.py)."""

from __future__ import annotations

from django import forms

from generation.models import GeneratorVersion
from hfplatform.accounts.roles import GROUP_ROLES
from review.models import TaskKind
from review.services import DEFAULT_ROLES


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    task_kinds = forms.MultipleChoiceField(choices=TaskKind.choices, widget=forms.CheckboxSelectMultiple,
                                           initial=[TaskKind.RATING])
    generator_version = forms.ModelChoiceField(GeneratorVersion.objects.all(), to_field_name="name",
                                               required=False, empty_label="any version")
    generation_job = forms.IntegerField(required=False, min_value=1, help_text="Only this generation job.")
    subject = forms.IntegerField(required=False, min_value=1, help_text="Only this subject.")
    overlap = forms.IntegerField(initial=3, min_value=1, max_value=10,
                                 help_text="Distinct reviewers per item.")
    allowed_roles = forms.MultipleChoiceField(choices=[(r.value, r.value) for r in GROUP_ROLES],
                                              widget=forms.CheckboxSelectMultiple,
                                              initial=list(DEFAULT_ROLES))
    gold_rate = forms.FloatField(initial=0.1, min_value=0.0, max_value=0.5,
                                 help_text="Share of each reviewer's items with a known answer.")
    lease_seconds = forms.IntegerField(initial=600, min_value=30, max_value=24 * 3600,
                                       help_text="Seconds an item is held before it returns to the pool.")
