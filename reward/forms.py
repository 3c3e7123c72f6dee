"""Forms of the reward pages (the API validates the same fields in reward/apis.py)."""

from __future__ import annotations

from django import forms
from django.conf import settings

from review.models import Campaign
from reward.ml.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_EARLY_STOPPING_PATIENCE,
    DEFAULT_LEARNING_RATE,
    DEFAULT_LR_SCHEDULER,
    DEFAULT_MAX_STEPS,
    DEFAULT_MODEL,
    LR_SCHEDULERS,
    MODELS,
)
from reward.models import Dimension, PreferenceDataset
from reward.options import (
    BATCH_SIZE,
    DEFAULT_TEST_SHARE,
    EARLY_STOPPING_PATIENCE,
    LEARNING_RATE,
    MARGIN,
    MAX_STEPS,
    TEST_SHARE,
)

MODEL_LABELS = {"cnn": "CNN (learnt convolutions)", "statistics": "Image statistics + a learnt head"}


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
    include_simulated = forms.BooleanField(required=False, initial=True,
                                           help_text="Count the answers of simulated reviewers.")


class RewardTrainingForm(forms.Form):
    dataset = forms.ModelChoiceField(PreferenceDataset.objects.all())
    dimension = forms.ChoiceField(choices=Dimension.choices, initial=Dimension.OVERALL)
    name = forms.SlugField(max_length=64, required=False, help_text="Empty: dataset-dimension-N.")
    model = forms.ChoiceField(choices=[(m, MODEL_LABELS[m]) for m in MODELS], initial=DEFAULT_MODEL)
    max_steps = forms.IntegerField(
        min_value=MAX_STEPS[0], max_value=MAX_STEPS[1], initial=DEFAULT_MAX_STEPS,
        help_text="At most: training stops when the validation loss stops falling.")
    batch_size = forms.IntegerField(min_value=BATCH_SIZE[0], max_value=BATCH_SIZE[1],
                                    initial=DEFAULT_BATCH_SIZE)
    learning_rate = forms.FloatField(min_value=LEARNING_RATE[0], max_value=LEARNING_RATE[1],
                                     initial=DEFAULT_LEARNING_RATE)
    lr_scheduler = forms.ChoiceField(choices=[(s, s) for s in LR_SCHEDULERS], initial=DEFAULT_LR_SCHEDULER,
                                     label="Learning-rate schedule")
    early_stopping_patience = forms.IntegerField(
        min_value=EARLY_STOPPING_PATIENCE[0], max_value=EARLY_STOPPING_PATIENCE[1],
        initial=DEFAULT_EARLY_STOPPING_PATIENCE,
        help_text="Validation evaluations without a lower loss before training stops.")
