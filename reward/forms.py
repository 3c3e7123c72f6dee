"""Forms of the reward pages (the API validates the same fields in reward/apis.py)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from review.models import Campaign
from reward.ml.options import DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE, DEFAULT_MAX_STEPS
from reward.models import Dimension, PreferenceDataset
from reward.options import BATCH_SIZE, DEFAULT_TEST_SHARE, LEARNING_RATE, MARGIN, MAX_STEPS, TEST_SHARE


class PreferenceDatasetForm(forms.Form):
    name = forms.SlugField(max_length=64)
    campaigns = forms.ModelMultipleChoiceField(Campaign.objects.all(), widget=forms.CheckboxSelectMultiple)
    margin = forms.FloatField(min_value=MARGIN[0], max_value=MARGIN[1], initial=settings.REWARD_RATING_MARGIN,
                              help_text="Two headshots' weighted mean ratings must differ by this.")
    keep_ties = forms.BooleanField(required=False, initial=settings.REWARD_KEEP_TIES,
                                   help_text="Keep “can't tell” choices as ties (never wins).")
    test_share = forms.FloatField(min_value=TEST_SHARE[0], max_value=TEST_SHARE[1],
                                  initial=DEFAULT_TEST_SHARE,
                                  help_text="Share of subjects held out for evaluation.")


class RewardTrainingForm(forms.Form):
    dataset = forms.ModelChoiceField(PreferenceDataset.objects.all())
    dimension = forms.ChoiceField(choices=Dimension.choices, initial=Dimension.OVERALL)
    name = forms.SlugField(max_length=64, required=False, help_text="Empty: dataset-dimension-N.")
    max_steps = forms.IntegerField(min_value=MAX_STEPS[0], max_value=MAX_STEPS[1], initial=DEFAULT_MAX_STEPS)
    batch_size = forms.IntegerField(min_value=BATCH_SIZE[0], max_value=BATCH_SIZE[1],
                                    initial=DEFAULT_BATCH_SIZE)
    learning_rate = forms.FloatField(min_value=LEARNING_RATE[0], max_value=LEARNING_RATE[1],
                                     initial=DEFAULT_LEARNING_RATE)
