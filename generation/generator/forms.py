"""Forms of the generator's pages; the API takes the same fields (``generation.generator.apis``), and
both validate against ``generation.generator.options`` and ``generation.ml.options``."""

from django import forms

from generation.generator.options import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CANDIDATES,
    DEFAULT_ETA,
    DEFAULT_GUIDANCE,
    DEFAULT_STEPS,
    MAX_BATCH_SIZE,
    MAX_CANDIDATES,
    MAX_ETA,
    MAX_GUIDANCE,
    MAX_SEED,
    MAX_STEPS,
    MAX_TRAINING_STEPS,
    MIN_ETA,
    MIN_GUIDANCE,
    MIN_TRAINING_MINUTES,
)
from generation.ml.options import PREDICTION_TYPES, SAMPLER_LABELS, SAMPLERS, TRAINING_PREDICTION_TYPE
from generation.models import GeneratorVersion


class GenerationForm(forms.Form):
    candidates = forms.IntegerField(min_value=1, max_value=MAX_CANDIDATES, initial=DEFAULT_CANDIDATES,
                                    label="Candidates")
    seed = forms.IntegerField(min_value=0, max_value=MAX_SEED, required=False,
                              label="Seed (empty: random, recorded)")
    steps = forms.IntegerField(min_value=1, max_value=MAX_STEPS, initial=DEFAULT_STEPS, label="Sampler steps")
    guidance = forms.FloatField(min_value=MIN_GUIDANCE, max_value=MAX_GUIDANCE, initial=DEFAULT_GUIDANCE,
                                label="Guidance (1 = likeness, higher = more studio style)")
    guidance_max = forms.FloatField(min_value=MIN_GUIDANCE, max_value=MAX_GUIDANCE, required=False,
                                    label="Spread guidance up to (empty: every candidate at guidance)")
    sampler = forms.ChoiceField(choices=[(s, SAMPLER_LABELS[s]) for s in SAMPLERS], initial=SAMPLERS[0])
    eta = forms.FloatField(min_value=MIN_ETA, max_value=MAX_ETA, required=False, initial=DEFAULT_ETA,
                           label="DDIM eta (0 = deterministic, up to 1 = more varied; DDIM only)")
    keep = forms.IntegerField(min_value=1, max_value=MAX_CANDIDATES, required=False,
                              label="Keep the best k (empty: keep all; needs an active reward model)")

    stages = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple,
        label="Studio stages (run in this order; none ticked: the generator's output as it is)")
    upscaler = forms.ChoiceField(label="Super-resolution method", required=False)
    backdrop = forms.ChoiceField(label="Backdrop", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from generation.generator.studio import default_stages
        from generation.ml.studio.pipeline import STAGE_ORDER, stage_get

        self.fields["stages"].choices = [(name, stage_get(name).summary) for name in STAGE_ORDER]
        self.fields["stages"].initial = default_stages()
        for field, (stage, param) in STAGE_PARAM_FIELDS.items():
            spec = stage_get(stage).params[param]
            # a custom backdrop colour is an API parameter; the form offers the presets
            self.fields[field].choices = [(c, c) for c in spec.choices if c != "colour"]
            self.fields[field].initial = spec.default

    def clean_eta(self) -> float:
        eta = self.cleaned_data.get("eta")
        return DEFAULT_ETA if eta is None else eta

    def clean(self) -> dict:
        """``stages`` becomes the request's list of {name, params}; the method fields go into it."""
        data = super().clean()
        chosen = data.get("stages") or []
        params: dict[str, dict] = {}
        for field, (stage, param) in STAGE_PARAM_FIELDS.items():
            value = data.pop(field, None)
            if value:
                params.setdefault(stage, {})[param] = value
        data["stages"] = [{"name": name, "params": params.get(name, {})} for name in chosen]
        return data


#: Form fields that set one parameter of a stage: field -> (stage, parameter).
STAGE_PARAM_FIELDS = {"upscaler": ("super_resolution", "method"), "backdrop": ("background", "backdrop")}


class GeneratorTrainingForm(forms.Form):
    """Start a training job."""

    name = forms.SlugField(max_length=64, label="Name of the new version")
    parent = forms.ModelChoiceField(
        GeneratorVersion.objects.order_by("-created_at"), required=False,
        to_field_name="name", empty_label="None: train from scratch",
        label="Fine-tune from (keeps its weights, configuration and held-out people)")
    minutes = forms.FloatField(min_value=MIN_TRAINING_MINUTES, max_value=24 * 60, required=False, initial=10,
                               label="Stop after minutes (empty: run all steps)")
    steps = forms.IntegerField(min_value=1, max_value=MAX_TRAINING_STEPS, initial=20_000,
                               label="Steps at most")
    batch_size = forms.IntegerField(min_value=1, max_value=MAX_BATCH_SIZE, initial=DEFAULT_BATCH_SIZE,
                                    label="Batch size")
    prediction_type = forms.ChoiceField(
        choices=[("", f"{TRAINING_PREDICTION_TYPE} (a parent's own when fine-tuning)"),
                 *((t, t) for t in sorted(PREDICTION_TYPES, key=lambda t: t != TRAINING_PREDICTION_TYPE))],
        required=False, label="Prediction type")
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=0)
    group_balance = forms.FloatField(
        min_value=0.0, max_value=1.0, initial=0.0, required=False, label="Balance skin-tone groups",
        help_text="0: draw photos uniformly; 1: every measured skin-tone group equally often.")
    activate = forms.BooleanField(required=False, label="Make it the active generator when done")
