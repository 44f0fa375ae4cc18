"""Forms of the records pages. Clinical content is plain text: templates escape it, so
markup typed into any field is shown as text, never run."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.access.models import SensitivityLabel
from records import nir as nir_rules
from records.models import (
    Allergy,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Problem,
)

SENSITIVITY_CHOICES = [("", _("Not sensitive")), *SensitivityLabel.choices]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PatientForm(forms.ModelForm):
    confirm_not_duplicate = forms.BooleanField(
        label=_("I checked: this is not one of the similar patients above"), required=False
    )

    class Meta:
        model = Patient
        fields = [
            "birth_name",
            "used_name",
            "given_names",
            "sex",
            "birth_date",
            "birth_place",
            "nir",
            "address",
            "postal_code",
            "city",
            "phone",
            "email",
            "trusted_person_name",
            "trusted_person_relation",
            "trusted_person_phone",
            "advance_directives",
            "advance_directives_location",
        ]
        widgets = {"birth_date": DATE_INPUT}

    def clean_birth_date(self) -> date:
        born = self.cleaned_data["birth_date"]
        if born > timezone.localdate():
            raise ValidationError(_("The birth date cannot be in the future."))
        if born.year < 1880:
            raise ValidationError(_("Check the birth date."))
        return born

    def clean(self) -> dict:
        data = super().clean() or {}
        raw = data.get("nir", "")
        if raw:
            try:
                parsed = nir_rules.parse(raw)
                nir_rules.check_coherence(
                    parsed, sex=data.get("sex", ""), birth_date=data.get("birth_date")
                )
                data["nir"] = parsed.value
            except ValidationError as error:
                self.add_error("nir", error)
        return data


class EncounterForm(forms.ModelForm):
    weight = forms.DecimalField(label=_("Weight (kg)"), required=False, min_value=0, max_value=500)
    height = forms.DecimalField(label=_("Height (cm)"), required=False, min_value=0, max_value=300)
    systolic = forms.DecimalField(
        label=_("Systolic BP"), required=False, min_value=0, max_value=400
    )
    diastolic = forms.DecimalField(
        label=_("Diastolic BP"), required=False, min_value=0, max_value=300
    )
    heart_rate = forms.DecimalField(
        label=_("Heart rate"), required=False, min_value=0, max_value=400
    )
    temperature = forms.DecimalField(
        label=_("Temperature (°C)"), required=False, min_value=25, max_value=45
    )
    spo2 = forms.DecimalField(label=_("SpO₂ (%)"), required=False, min_value=0, max_value=100)
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )
    started_at = forms.FloatField(widget=forms.HiddenInput, required=False)

    VITALS = ["weight", "height", "systolic", "diastolic", "heart_rate", "temperature", "spo2"]

    class Meta:
        model = Encounter
        fields = ["kind", "reason", "subjective", "objective", "assessment", "plan", "sensitivity"]
        widgets = {
            "subjective": forms.Textarea(attrs={"rows": 4}),
            "objective": forms.Textarea(attrs={"rows": 4}),
            "assessment": forms.Textarea(attrs={"rows": 3}),
            "plan": forms.Textarea(attrs={"rows": 3}),
        }


class ProblemForm(forms.ModelForm):
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )

    class Meta:
        model = Problem
        fields = ["label", "code", "is_history", "long_term_condition", "onset", "sensitivity"]
        widgets = {"onset": DATE_INPUT}


class AllergyForm(forms.ModelForm):
    class Meta:
        model = Allergy
        fields = ["substance", "kind", "reaction", "severity"]


class ImmunizationForm(forms.ModelForm):
    class Meta:
        model = Immunization
        fields = ["vaccine", "vaccinated_on", "lot_number", "dose"]
        widgets = {"vaccinated_on": DATE_INPUT}


class ObservationForm(forms.ModelForm):
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )

    class Meta:
        model = Observation
        fields = ["label", "code", "value", "value_text", "unit", "effective_at", "sensitivity"]
        widgets = {"effective_at": forms.DateTimeInput(attrs={"type": "datetime-local"})}

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("value") is None and not data.get("value_text"):
            raise ValidationError(_("Give a value or a result."))
        return data


class PrescriptionLineForm(forms.Form):
    drug_cis = forms.CharField(widget=forms.HiddenInput, required=False, max_length=8)
    drug_label = forms.CharField(label=_("Drug"), max_length=300, required=False)
    posology = forms.CharField(label=_("Posology"), max_length=300, required=False)
    duration_days = forms.IntegerField(label=_("Days"), min_value=1, max_value=366, initial=30)
    long_term_condition = forms.BooleanField(label=_("ALD"), required=False)
    substitutable = forms.BooleanField(label=_("Substitutable"), required=False, initial=True)


PrescriptionLines = forms.formset_factory(PrescriptionLineForm, extra=3, max_num=12)


class PrescriptionForm(forms.Form):
    renewals = forms.IntegerField(label=_("Renewals"), min_value=0, max_value=11, initial=0)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )


class CorrectionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why this correction"), max_length=500)


ENTRY_FORMS: dict[str, type[forms.ModelForm]] = {
    "problem": ProblemForm,
    "allergy": AllergyForm,
    "immunization": ImmunizationForm,
    "observation": ObservationForm,
    "encounter": EncounterForm,
}


class DocumentUploadForm(forms.Form):
    file = forms.FileField(label=_("File (PDF, PNG or JPEG, at most 10 MB)"))
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[c for c in Document.Kind.choices if c[0] != Document.Kind.LETTER]
    )
    document_date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )


class LetterForm(forms.Form):
    title = forms.CharField(label=_("Subject"), max_length=200)
    recipient = forms.CharField(label=_("Recipient"), max_length=300)
    body = forms.CharField(label=_("Letter"), widget=forms.Textarea(attrs={"rows": 14}))
    document_date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )
