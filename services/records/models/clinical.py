"""The clinical record: consultations, problems, allergies, prescriptions, vaccinations,
observations.

Every entry is a ``ClinicalEntry``: it has an author, a sensitivity label (empty when not
sensitive), a ``version`` for optimistic locking (an edit based on an older version is
refused, never silently applied), and a status. Nothing is overwritten without trace: the
previous content of an edited entry is kept in ``EntryRevision`` with who, when and why,
and removal is "entered in error" with a reason — the row stays.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.practices.models import Practice
from core.quickload import QuickLoad
from records.models.patients import Patient
from records.models.reference import Cim10Code, Drug


class EntryStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")


class ClinicalEntry(QuickLoad, models.Model):
    """What every entry of the clinical record has."""

    ENTRY_TYPE = ""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=EntryStatus.choices, default=EntryStatus.ACTIVE
    )
    error_reason = models.TextField(blank=True)
    sensitivity = models.CharField(_("sensitivity"), max_length=40, blank=True)

    class Meta:
        abstract = True

    @property
    def entered_in_error(self) -> bool:
        return self.status == EntryStatus.ENTERED_IN_ERROR


class Encounter(ClinicalEntry):
    """A consultation (or visit, phone call, teleconsultation) with its SOAP note."""

    ENTRY_TYPE = "encounter"

    class Kind(models.TextChoices):
        OFFICE = "office", _("Office consultation")
        HOME = "home", _("Home visit")
        PHONE = "phone", _("Phone")
        VIDEO = "video", _("Teleconsultation")

    occurred_at = models.DateTimeField(_("date"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OFFICE)
    reason = models.CharField(_("reason for the visit"), max_length=300)
    subjective = models.TextField(_("subjective"), blank=True)
    objective = models.TextField(_("objective (examination)"), blank=True)
    assessment = models.TextField(_("assessment"), blank=True)
    plan = models.TextField(_("plan"), blank=True)
    # Seconds spent writing this note, summed over its edits ("data entry is care work").
    documentation_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["patient", "-occurred_at"])]
        constraints = [
            # What an invoice's reference to its consultation points at: the database
            # then checks that a consultation billed is of the invoice's own patient
            # and practice (billing migration 0004).
            models.UniqueConstraint(
                fields=["id", "patient", "practice"], name="encounter_of_patient_in_practice"
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%d/%m/%Y} {self.reason}"


class Problem(ClinicalEntry):
    """A problem or an item of history, coded in CIM-10 or written freely."""

    ENTRY_TYPE = "problem"

    class ClinicalStatus(models.TextChoices):
        ACTIVE = "active", _("Active")
        RESOLVED = "resolved", _("Resolved")

    code = models.CharField(_("CIM-10 code"), max_length=8, blank=True)
    label = models.CharField(_("problem"), max_length=300)
    clinical_status = models.CharField(
        max_length=10, choices=ClinicalStatus.choices, default=ClinicalStatus.ACTIVE
    )
    is_history = models.BooleanField(_("past history"), default=False)
    long_term_condition = models.BooleanField(_("long-term condition (ALD)"), default=False)
    onset = models.DateField(_("since"), null=True, blank=True)
    resolved_on = models.DateField(_("resolved on"), null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "clinical_status"])]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        """A code, when there is one, is a code of the shipped CIM-10 list, stored as the
        list writes it ("E11.9" becomes "E119"). Every way in (page, API, import) calls
        ``full_clean`` through ``entry_create`` / ``entry_update``, so an unknown code
        is refused everywhere and nothing is stored."""
        super().clean()
        if not self.code:
            return
        typed = self.code
        code = Cim10Code.normalise(typed)
        if code is None or not Cim10Code.objects.filter(code=code).exists():
            raise ValidationError(
                {
                    "code": _(
                        "Unknown CIM-10 code: %(code)s. Choose a code from the CIM-10 list "
                        "(search by code or by words), or leave the code empty."
                    )
                    % {"code": typed.strip()[:20]}
                }
            )
        self.code = code


class Allergy(ClinicalEntry):
    """An allergy or intolerance: shown as an alert on the chart."""

    ENTRY_TYPE = "allergy"

    class Kind(models.TextChoices):
        ALLERGY = "allergy", _("Allergy")
        INTOLERANCE = "intolerance", _("Intolerance")

    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    # What the patient reacts to, as written on the chart. When it was picked from the
    # reference, ``substance_code`` (a BDPM substance) or ``atc_class`` (an ATC class,
    # e.g. J01C penicillins) says what it is, and prescriptions are checked against it;
    # text alone cannot be checked, and the prescription form says so.
    substance = models.CharField(_("substance"), max_length=200)
    substance_code = models.CharField(
        _("substance (BDPM code)"), max_length=8, blank=True, default="", db_default=""
    )
    atc_class = models.CharField(
        _("drug class (ATC)"), max_length=8, blank=True, default="", db_default=""
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ALLERGY)
    reaction = models.CharField(_("reaction"), max_length=300, blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.MODERATE
    )

    class Meta:
        indexes = [models.Index(fields=["patient"])]

    def __str__(self) -> str:
        return self.substance

    def clean(self) -> None:
        """A substance or a class must be one of the reference: an unknown code would be
        checked against nothing while looking checked."""
        from records.models.reference import AtcClass, Substance

        errors = {}
        if self.substance_code and self.atc_class:
            errors["atc_class"] = _("Choose a substance or a drug class, not both.")
        elif self.substance_code and not Substance.objects.filter(pk=self.substance_code).exists():
            errors["substance_code"] = _("Unknown substance: pick it from the list.")
        elif self.atc_class and not AtcClass.objects.filter(pk=self.atc_class).exists():
            errors["atc_class"] = _("Unknown drug class (ATC): pick it from the list.")
        if errors:
            raise ValidationError(errors)

    @property
    def checked(self) -> bool:
        """Whether prescriptions are checked against it (picked from the reference)."""
        return bool(self.substance_code or self.atc_class)


# The current treatment: the lines prescribed in the last two years (the chart shows
# them; the safety checks compare a new prescription with them).
TREATMENT_LOOKBACK_DAYS = 2 * 366


class Prescription(ClinicalEntry):
    """An ordonnance: drug lines, in the long-term-condition (ALD) zone or the other one."""

    ENTRY_TYPE = "prescription"

    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="prescriptions"
    )
    prescribed_on = models.DateField(_("date"), default=timezone.localdate)
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    note = models.TextField(_("note"), blank=True)
    # The safety alerts that were shown when the prescription was saved (their codes,
    # records.safety), and why the prescriber went on despite a blocking one.
    alerts = models.JSONField(default=list, blank=True, db_default=[])
    override_reason = models.TextField(
        _("reason for overriding the alert"), blank=True, default="", db_default=""
    )

    class Meta:
        indexes = [models.Index(fields=["patient", "-prescribed_on"])]

    def __str__(self) -> str:
        return f"{_('Prescription')} {self.prescribed_on:%d/%m/%Y}"


class PrescriptionItem(QuickLoad, models.Model):
    """One drug line of a prescription."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="items")
    drug = models.ForeignKey(
        Drug, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    drug_label = models.CharField(_("drug"), max_length=300)  # as printed, kept if BDPM changes
    # The drug in DCI (substances, dosage, form), as printed; the brand (drug_label) is
    # printed in brackets after it only when the prescriber asked for it.
    dci = models.CharField(_("DCI"), max_length=300, blank=True, default="", db_default="")
    show_brand = models.BooleanField(_("print the brand name"), default=False, db_default=False)
    # The whole posology as printed: the structured part (dose, unit, frequency) and the
    # free text beside it.
    posology = models.CharField(_("posology"), max_length=300)
    dose_quantity = models.DecimalField(
        _("quantity per dose"), max_digits=7, decimal_places=2, null=True, blank=True
    )
    dose_unit = models.CharField(_("unit"), max_length=40, blank=True, default="", db_default="")
    frequency = models.PositiveSmallIntegerField(_("times"), null=True, blank=True)
    frequency_period = models.CharField(
        _("per"), max_length=5, blank=True, default="", db_default=""
    )  # "day", "week"
    posology_note = models.CharField(
        _("instructions"), max_length=300, blank=True, default="", db_default=""
    )
    # Printed on the ordonnance sécurisée, quantities in letters (records.secure).
    secure = models.BooleanField(default=False, db_default=False)
    duration_days = models.PositiveIntegerField(_("duration (days)"), default=30)
    long_term_condition = models.BooleanField(_("for the long-term condition (ALD)"), default=False)
    substitutable = models.BooleanField(_("substitutable"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.drug_label

    @property
    def printed_name(self) -> str:
        """The DCI, with the brand in brackets when asked for; the label alone for a drug
        typed freely (or prescribed before compositions were loaded)."""
        if not self.dci:
            return self.drug_label
        return f"{self.dci} ({self.drug_label})" if self.show_brand else self.dci

    def ends_on(self) -> date:
        days = self.duration_days * (1 + self.prescription.renewals)
        return self.prescription.prescribed_on + timedelta(days=days)


class Immunization(ClinicalEntry):
    """A vaccination."""

    ENTRY_TYPE = "immunization"

    vaccinated_on = models.DateField(_("date"))
    vaccine = models.CharField(_("vaccine"), max_length=300)
    drug = models.ForeignKey(
        Drug, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lot_number = models.CharField(_("lot number"), max_length=60, blank=True)
    dose = models.CharField(_("dose"), max_length=60, blank=True)

    class Meta:
        indexes = [models.Index(fields=["patient", "-vaccinated_on"])]

    def __str__(self) -> str:
        return self.vaccine


class Observation(ClinicalEntry):
    """A measurement or a result: vitals of a consultation, a lab value."""

    ENTRY_TYPE = "observation"

    encounter = models.ForeignKey(
        Encounter, on_delete=models.PROTECT, null=True, blank=True, related_name="observations"
    )
    effective_at = models.DateTimeField(_("date"), default=timezone.now)
    code = models.CharField(_("code"), max_length=40)  # e.g. LOINC 29463-7, or "weight"
    label = models.CharField(_("observation"), max_length=200)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=3, null=True, blank=True)
    value_text = models.CharField(_("result"), max_length=300, blank=True)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    reviewed = models.BooleanField(_("reviewed"), default=True)
    # A laboratory's result: its reference range as numbers and as written, the flag
    # (the laboratory's, else what the range says), LOINC ("LN") or the laboratory's own
    # code ("lab"), its status (F final, P partial, C corrected), and the report it came in.
    reference_low = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    # Database defaults too: the bulk loaders (carnet_demo/volume.py) copy rows column by column.
    reference_text = models.CharField(
        _("reference range"), max_length=60, blank=True, default="", db_default=""
    )
    flag = models.CharField(_("flag"), max_length=24, blank=True, default="", db_default="")
    code_system = models.CharField(max_length=8, blank=True, default="", db_default="")
    result_status = models.CharField(max_length=1, blank=True, default="", db_default="")
    report = models.ForeignKey(
        "records.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["patient", "code", "-effective_at"])]

    def __str__(self) -> str:
        return (
            f"{self.label} {self.value if self.value is not None else self.value_text} {self.unit}"
        )


class EntryRevision(models.Model):
    """The content an entry had before an edit or its removal: who, when, why."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    entry_type = models.CharField(max_length=20)
    entry_id = models.BigIntegerField()
    version = models.PositiveIntegerField()
    content = models.JSONField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["entry_type", "entry_id", "version"])]
