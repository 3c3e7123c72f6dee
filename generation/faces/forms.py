from django import forms

from generation.models import AgeBand, Gender, SkinTone


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
