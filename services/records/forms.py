"""Forms of the records pages. Clinical content is plain text: templates escape it, so
markup typed into any field is shown as text, never run."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from core.access.models import SensitivityLabel
from records import nir as nir_rules
from records import niss as niss_rules
from records import reference
from records.models import (
    Allergy,
    Cim10Code,
    Document,
    Drug,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Problem,
)

SENSITIVITY_CHOICES = [("", _("Not sensitive")), *SensitivityLabel.choices]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# Every identity field a person may type, in the order of the forms.
IDENTITY_FIELDS = [
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
    "contact_preference",
    "phone",
    "email",
    "trusted_person_name",
    "trusted_person_relation",
    "trusted_person_phone",
    "advance_directives",
    "advance_directives_location",
]
NO_GP_YET = "none"


class IdentityFields(forms.ModelForm):
    """The identity fields and their checks, shared by registration and correction."""

    # Longer than the 15 characters stored: a NIR is typed as printed on the carte
    # Vitale, with spaces ("1 85 05 78 006 084 36") or dots, and stored without them.
    nir = forms.CharField(
        label=_("NIR"),
        max_length=30,
        required=False,
        help_text=_("15 digits; spaces and dots are accepted."),
    )
    contact_preference = forms.ChoiceField(
        label=_("How to reach the patient"),
        choices=Patient.Contact.choices,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Patient
        fields = IDENTITY_FIELDS
        widgets = {"birth_date": DATE_INPUT}

    def __init__(self, *args: Any, country: str = "FR", **kwargs: Any):
        super().__init__(*args, **kwargs)
        # A Belgian practice records the national number (NISS) in the same field.
        self.country = country.upper()
        if self.country == "BE":
            self.fields["nir"].label = _("National number (NISS)")
            self.fields["nir"].help_text = _("11 digits; spaces, dots and hyphens are accepted.")

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
        if raw and self.country == "BE":
            try:
                data["nir"] = niss_rules.validate(raw)
            except ValidationError as error:
                self.add_error("nir", error)
        elif raw:
            try:
                niss_rules.refuse_in_france(raw)
                parsed = nir_rules.parse(raw)
                nir_rules.check_coherence(
                    parsed, sex=data.get("sex", ""), birth_date=data.get("birth_date")
                )
                data["nir"] = parsed.value
            except ValidationError as error:
                self.add_error("nir", error)
        return data

    def _post_clean(self) -> None:
        # The model's own checks (unique NIR...) are the service's, with clearer words.
        pass


class PatientForm(IdentityFields):
    """Registration: the identity, how to reach the patient, and the GP of record."""

    gp = forms.ChoiceField(label=_("GP of record (médecin traitant)"))
    confirm_not_duplicate = forms.BooleanField(
        label=_("I checked: this is not one of the similar patients above"), required=False
    )

    def __init__(self, *args: Any, doctors: list[Any], me: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        gp = self.fields["gp"]
        assert isinstance(gp, forms.ChoiceField)
        gp.choices = [
            ("", _("Choose…")),
            (NO_GP_YET, _("None yet")),
            *((str(person.pk), person.full_name) for person in doctors),
        ]
        if me is not None and any(person.pk == me for person in doctors):
            gp.initial = str(me)

    def clean_gp(self) -> int | None:
        value = self.cleaned_data["gp"]
        return None if value == NO_GP_YET else int(value)


class IdentityCorrectionForm(IdentityFields):
    """Correcting the identity: every field as it is now, the version it started from,
    and why."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why this correction"),
        max_length=500,
        help_text=_("For example: typing error, marriage, patient moved, carte Vitale seen."),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Older records may have no answer yet: then it may stay unanswered.
        if self.instance.pk and not self.instance.contact_preference:
            self.fields["contact_preference"].required = False


class DeathForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    # Not required here: withdrawing a death recorded by mistake needs no date; the
    # service asks for one when a death is recorded.
    deceased_on = forms.DateField(label=_("Date of death"), widget=DATE_INPUT, required=False)
    reason = forms.CharField(
        label=_("How it was known, or why the date is corrected"),
        max_length=500,
        required=False,
    )
    confirmed = forms.BooleanField(
        label=_("I confirm the death of this patient"),
        required=False,
    )


class GpForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    gp = forms.ChoiceField(label=_("GP of record (médecin traitant)"))
    since = forms.DateField(label=capfirst(_("GP of record since")), widget=DATE_INPUT)
    reason = forms.CharField(
        label=_("Note (optional)"),
        max_length=500,
        required=False,
        help_text=_("For example: declaration signed on…"),
    )

    def __init__(self, *args: Any, doctors: list[Any], **kwargs: Any):
        super().__init__(*args, **kwargs)
        gp = self.fields["gp"]
        assert isinstance(gp, forms.ChoiceField)
        gp.choices = [
            (NO_GP_YET, _("None")),
            *((str(person.pk), person.full_name) for person in doctors),
        ]

    def clean_gp(self) -> int | None:
        value = self.cleaned_data["gp"]
        return None if value == NO_GP_YET else int(value)


class MergeForm(forms.Form):
    duplicate = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why these two records are the same person"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirmed = forms.BooleanField(
        label=_("I understand that a merge cannot be undone"),
        required=True,
    )


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
    # What the consultation was started from (an appointment of the day): passed on to
    # the services that listen (records.signals), never interpreted here.
    origin = forms.RegexField(
        regex=r"^(appointment:\d{1,12})?$", widget=forms.HiddenInput, required=False
    )

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
    """A problem coded from the CIM-10 list: the code field searches the list by code or
    by words (records:cim10-search); the model refuses a code that is not in it. The
    label may stay empty: it is then the code's label."""

    cim10_picker = True  # the template shows the suggestions under the code
    search_view = "records:cim10-search"

    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )

    class Meta:
        model = Problem
        fields = ["code", "label", "is_history", "long_term_condition", "onset", "sensitivity"]
        widgets = {"onset": DATE_INPUT}
        labels = {"code": _("CIM-10 code (type a code or words)")}
        help_texts = {"label": _("Leave empty to use the label of the CIM-10 code.")}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["label"].required = False
        code = self.fields["code"]
        # The model's max_length (8) would refuse the words typed to search.
        code.validators = [v for v in code.validators if not isinstance(v, MaxLengthValidator)]
        code.widget.attrs.update(
            {"autocomplete": "off", "data-cim10-input": "", "maxlength": "100"}
        )

        # Codes proposed when words were typed and the form comes back (works without
        # JavaScript): the closest CIM-10 codes for those words.
        self.suggestions: list[Cim10Code] = []

    def enable_search(self, url: str) -> None:
        """Search the list while typing (htmx), from the practice's search page."""
        self.fields["code"].widget.attrs.update(
            {
                "hx-get": url,
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#cim10-options",
                "data-combobox": "cim10-options",
            }
        )

    def clean_code(self) -> str:
        typed = (self.cleaned_data.get("code") or "").strip()
        if not typed:
            return ""
        code = Cim10Code.normalise(typed)
        if code is not None and Cim10Code.objects.filter(code=code).exists():
            return code
        if code is None:  # words: not a code, but what to search for
            self.suggestions = reference.cim10_search(typed, limit=8)
            if self.suggestions:
                raise ValidationError(
                    _("“%(typed)s” is not a CIM-10 code: choose one of the codes below.")
                    % {"typed": typed}
                )
        raise ValidationError(
            _(
                "Unknown CIM-10 code: %(code)s. Choose a code from the CIM-10 list "
                "(search by code or by words), or leave the code empty."
            )
            % {"code": typed[:20]}
        )

    def clean(self) -> dict:
        data = super().clean() or {}
        code = data.get("code") or ""
        if code and not data.get("label"):
            found = Cim10Code.objects.filter(code=code).first()
            if found is not None:
                data["label"] = found.label
        if not data.get("label") and not code and "code" not in self.errors:
            self.add_error("label", _("Give the problem: a CIM-10 code or words."))
        return data

    def _post_clean(self) -> None:
        # A refused code has said why; the model would only repeat it (or complain
        # that words are longer than a code).
        if "code" not in self.errors:
            super()._post_clean()  # type: ignore[misc]


class AllergyForm(forms.ModelForm):
    """The substance is typed and picked from the reference (a substance or an ATC
    class); what was picked fills the hidden codes. Text alone is kept, but prescriptions
    cannot be checked against it, and the prescription form says so."""

    suggest_field = "substance"
    search_view = "records:allergen-search"

    class Meta:
        model = Allergy
        fields = ["substance", "substance_code", "atc_class", "kind", "reaction", "severity"]
        widgets = {
            "substance_code": forms.HiddenInput,
            "atc_class": forms.HiddenInput,
            "substance": forms.TextInput(attrs={"autocomplete": "off", "data-allergen-input": ""}),
        }
        help_texts = {
            "substance": _(
                "Type at least 3 letters and pick a substance or a drug class (ATC) from the "
                "list: prescriptions are then checked against it. Text alone is not checked."
            )
        }

    def enable_search(self, url: str) -> None:
        """Suggestions from the reference as the substance is typed (htmx)."""
        self.fields["substance"].widget.attrs.update(
            {
                "hx-get": url,
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#suggest-substance",
                "data-combobox": "suggest-substance",
            }
        )


class VaccineChoiceField(forms.ModelChoiceField):
    """A vaccine by its CIS code; anything but eight digits is refused before the
    database is asked."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if not reference.CIS_PATTERN.fullmatch(str(value)):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ImmunizationForm(forms.ModelForm):
    """A vaccination: the vaccine picked from the BDPM vaccines (the name field searches
    them, records:vaccine-search; the chosen CIS goes in ``drug``), and its lot number,
    which traceability needs."""

    drug = VaccineChoiceField(
        queryset=Drug.objects.filter(vaccine=True),
        widget=forms.HiddenInput,
        required=False,
        error_messages={"invalid_choice": _("This product is not a vaccine of the list.")},
    )
    search_view = "records:vaccine-search"
    vaccine_picker = True

    class Meta:
        model = Immunization
        fields = ["vaccine", "drug", "vaccinated_on", "lot_number", "dose"]
        widgets = {"vaccinated_on": DATE_INPUT}
        labels = {"vaccine": _("Vaccine (type its name)")}

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["lot_number"].required = True
        self.fields["vaccine"].widget.attrs.update({"autocomplete": "off"})
        self.suggestions: list[Drug] = []

    def enable_search(self, url: str) -> None:
        self.fields["vaccine"].widget.attrs.update(
            {
                "hx-get": url,
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#vaccine-options",
                "data-combobox": "vaccine-options",
            }
        )

    def clean(self) -> dict:
        data = super().clean() or {}
        drug = data.get("drug")
        if "drug" in self.errors or drug is None:
            self.errors.pop("drug", None)
            typed = (data.get("vaccine") or "").strip()
            if typed and len(typed) >= 3:
                self.suggestions = reference.drug_search(typed, limit=8, vaccines=True)
            self.add_error("vaccine", _("Choose the vaccine from the list of BDPM vaccines."))
        else:
            data["vaccine"] = drug.name
        return data

    def _post_clean(self) -> None:
        if "vaccine" not in self.errors:
            super()._post_clean()  # type: ignore[misc]


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


DOSE_UNITS = [
    "comprimé",
    "gélule",
    "sachet",
    "cuillère-mesure",
    "dose-poids",
    "goutte",
    "ml",
    "mg",
    "bouffée",
    "pulvérisation",
    "application",
    "suppositoire",
    "ampoule",
    "patch",
    "unité",
]


class PrescriptionLineForm(forms.Form):
    """One line: the drug (picked from the BDPM, or typed), the posology built from the
    quantity per dose, its unit and how many times per day or week, with free text
    beside it; the bounds are the service's, so that the page and the API say the
    same."""

    drug_cis = forms.CharField(widget=forms.HiddenInput, required=False, max_length=8)
    drug_label = forms.CharField(label=_("Drug"), max_length=300, required=False)
    dose_quantity = forms.DecimalField(
        label=_("Quantity per dose"),
        required=False,
        max_digits=7,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 5}),
    )
    dose_unit = forms.CharField(
        label=_("Unit"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"list": "dose-units", "size": 12}),
    )
    frequency = forms.IntegerField(
        label=_("Times"), required=False, widget=forms.NumberInput(attrs={"size": 3})
    )
    frequency_period = forms.ChoiceField(
        label=_("Per"),
        choices=[("day", _("day")), ("week", _("week"))],
        required=False,
        initial="day",
    )
    posology = forms.CharField(
        label=_("Other instructions (free text)"), max_length=300, required=False
    )
    duration_days = forms.IntegerField(label=_("Days"), min_value=1, max_value=366, initial=30)
    long_term_condition = forms.BooleanField(label=_("ALD"), required=False)
    substitutable = forms.BooleanField(label=_("Substitutable"), required=False, initial=True)
    show_brand = forms.BooleanField(label=_("Print the brand name"), required=False)


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


class CertificateForm(forms.Form):
    """A certificate or letter from a model: the filled text, edited before printing."""

    title = forms.CharField(label=_("Title"), max_length=200)
    recipient = forms.CharField(
        label=_("Recipient"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 16}))
    document_date = forms.DateField(label=_("Date"), widget=DATE_INPUT)
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=SENSITIVITY_CHOICES, required=False
    )

    def __init__(self, *args: Any, needs_recipient: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if needs_recipient:
            self.fields["recipient"].required = True
        else:
            del self.fields["recipient"]
