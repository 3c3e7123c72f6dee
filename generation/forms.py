from django import forms

from generation.models import AgeBand, Gender, GeneratorVersion, SkinTone


class SubjectForm(forms.Form):
    display_name = forms.CharField(max_length=120, label="Display name")
    consent_given = forms.BooleanField(
        label="The subject has agreed that their photos are stored and used to make headshots",
        error_messages={"required": "The subject's consent is required before any photo is stored."},
    )
    age_band = forms.ChoiceField(choices=[("", "Prefer not to say"), *AgeBand.choices],
                                 required=False, label="Age band (optional)")
    gender = forms.ChoiceField(choices=[("", "Prefer not to say"), *Gender.choices],
                               required=False, label="Gender (optional)")
    skin_tone_self_reported = forms.ChoiceField(
        choices=[("", "Prefer not to say"), *SkinTone.choices], required=False,
        label="Skin tone, in the subject's own words (optional)",
    )


class GenerationForm(forms.Form):
    candidates = forms.IntegerField(min_value=1, max_value=16, initial=4, label="Candidates")
    seed = forms.IntegerField(min_value=0, max_value=2**62, required=False,
                              label="Seed (empty: random, recorded)")
    steps = forms.IntegerField(min_value=1, max_value=200, initial=25, label="Sampler steps")
    guidance = forms.FloatField(min_value=0.0, max_value=10.0, initial=1.0,
                                label="Guidance (1 = likeness, higher = more studio style)")
    sampler = forms.ChoiceField(choices=[("ddim", "DDIM"), ("dpm", "DPM-Solver++")], initial="ddim")
    keep = forms.IntegerField(min_value=1, max_value=16, required=False,
                              label="Keep the best k (empty: keep all; needs an active reward model)")


class GeneratorTrainingForm(forms.Form):
    """Start a training job (the API takes the same fields: generation/generator_apis.py)."""

    name = forms.SlugField(max_length=64, label="Name of the new version")
    parent = forms.ModelChoiceField(
        GeneratorVersion.objects.order_by("-created_at"), required=False,
        to_field_name="name", empty_label="None: train from scratch",
        label="Fine-tune from (keeps its weights, configuration and held-out people)")
    minutes = forms.FloatField(min_value=0.1, max_value=24 * 60, required=False, initial=10,
                               label="Stop after minutes (empty: run all steps)")
    steps = forms.IntegerField(min_value=1, max_value=1_000_000, initial=20_000, label="Steps at most")
    batch_size = forms.IntegerField(min_value=1, max_value=512, initial=32, label="Batch size")
    prediction_type = forms.ChoiceField(
        choices=[("", "sample (a parent's own when fine-tuning)"), ("sample", "sample"),
                 ("v_prediction", "v_prediction"), ("epsilon", "epsilon")],
        required=False, label="Prediction type")
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=0)
    activate = forms.BooleanField(required=False, label="Make it the active generator when done")
