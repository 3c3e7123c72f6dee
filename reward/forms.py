"""Forms of the reward pages (the API validates the same fields in reward/apis.py)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from review.models import Campaign
from reward.models import Dimension, PreferenceDataset


class PreferenceDatasetForm(forms.Form):
    name = forms.SlugField(max_length=64)
    campaigns = forms.ModelMultipleChoiceField(Campaign.objects.all(), widget=forms.CheckboxSelectMultiple)
    margin = forms.FloatField(min_value=0.0, max_value=4.0, initial=settings.REWARD_RATING_MARGIN,
                              help_text="Two headshots' weighted mean ratings must differ by this.")
    keep_ties = forms.BooleanField(required=False, initial=settings.REWARD_KEEP_TIES,
                                   help_text="Keep “can't tell” choices as ties (never wins).")
    test_share = forms.FloatField(min_value=0.0, max_value=0.9, initial=0.25,
                                  help_text="Share of subjects held out for evaluation.")


class RewardTrainingForm(forms.Form):
    dataset = forms.ModelChoiceField(PreferenceDataset.objects.all())
    dimension = forms.ChoiceField(choices=Dimension.choices, initial=Dimension.OVERALL)
    name = forms.SlugField(max_length=64, required=False, help_text="Empty: dataset-dimension-N.")
    max_steps = forms.IntegerField(min_value=10, max_value=20000, initial=300)
    batch_size = forms.IntegerField(min_value=2, max_value=256, initial=16)
    learning_rate = forms.FloatField(min_value=1e-6, max_value=1.0, initial=1e-3)
