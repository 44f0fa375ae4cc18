"""Paper: the prescription, the full copy of the record, the "who accessed my record"
report. Every print is itself written to the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, Purpose
from core.audit.services import record_event
from core.documents.pdf import render_pdf
from core.practices.models import Practice
from records import access as records_access
from records import posology
from records.access_report import AccessLine, AccessReport, report_for
from records.models import (
    Allergy,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from records.models.clinical import EntryStatus


def _patient(patient_id: int) -> Patient:
    patient = Patient.objects.filter(pk=patient_id).select_related("gp").first()
    if patient is None:
        raise Http404(_("No such patient in this practice."))
    return patient


def prescription_pdf(
    *, actor: Actor, practice: Practice, patient_id: int, prescription_id: int
) -> bytes:
    patient = _patient(patient_id)
    prescription = (
        Prescription.objects.filter(pk=prescription_id, patient=patient)
        .select_related("author")
        .first()
    )
    if prescription is None:
        raise Http404(_("No such prescription."))
    access = records_access.access_for(patient)
    # One event for the print: the decision's success is not recorded on its own.
    records_access.require_entry(actor, Action.PRINT, access, prescription, audit_success=False)
    items = list(prescription.items.all())
    secure = any(item.secure for item in items)
    for item in items:
        item.lines = _item_lines(item, letters=secure)  # type: ignore[attr-defined]
    record_event(
        "prescription.print",
        actor=actor,
        patient_id=patient.pk,
        category=Category.CLINICAL.value,
        target=f"prescription:{prescription.pk}",
    )
    return render_pdf(
        "records/pdf/prescription.html",
        {
            "practice": practice,
            "patient": patient,
            "prescription": prescription,
            "prescriber": prescription.author,
            "ald_items": [i for i in items if i.long_term_condition],
            "other_items": [i for i in items if not i.long_term_condition],
            "bizone": any(i.long_term_condition for i in items),
            "secure": secure,
            "count_in_letters": posology.in_letters(len(items)),
            "count": len(items),
            "age": age_in_words(patient.birth_date, prescription.prescribed_on),
            "weight": _child_weight(actor, access, patient, prescription.prescribed_on),
        },
    )


@dataclass
class ItemLines:
    """A drug line as printed: the name (DCI, brand in brackets if asked), the posology
    and the duration, in figures, or in letters on an ordonnance sécurisée."""

    name: str
    posology: str
    duration: str


def _item_lines(item: PrescriptionItem, *, letters: bool) -> ItemLines:
    name = item.printed_name
    structured = item.dose_quantity is not None or item.frequency is not None
    if letters:
        name = posology.dosage_in_letters(name)
    text = (
        posology.posology(
            quantity=item.dose_quantity,
            unit=item.dose_unit,
            frequency=item.frequency,
            period=item.frequency_period,
            note=item.posology_note,
            letters=letters,
        )
        if structured
        else item.posology
    )
    return ItemLines(name, text, posology.duration(item.duration_days, letters=letters))


def age_in_words(birth_date: date, on: date) -> str:
    """ "45 ans"; under two years, in months ("18 mois"), under a month in days."""
    years = age_years(birth_date, on)
    if years >= 2:
        return f"{years} ans"
    months = (on.year - birth_date.year) * 12 + on.month - birth_date.month
    months -= on.day < birth_date.day
    if months >= 1:
        return f"{months} mois"
    days = (on - birth_date).days
    return f"{days} jour{'s' if days > 1 else ''}"


CHILD_UNTIL_YEARS = 18
WEIGHT_CODE = "29463-7"


def _child_weight(
    actor: Actor, access: records_access.PatientAccess, patient: Patient, on: date
) -> Observation | None:
    """A child's doses depend on the weight: the last one recorded (that the prescriber
    may see) is printed. Adults' weight is not printed."""
    if age_years(patient.birth_date, on) >= CHILD_UNTIL_YEARS:
        return None
    weights = Observation.objects.filter(
        patient=patient, code=WEIGHT_CODE, status=EntryStatus.ACTIVE, value__isnull=False
    ).order_by("-effective_at")[:5]
    return next((w for w in weights if records_access.may_see_entry(actor, access, w)), None)


def age_years(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


@dataclass
class RecordCopy:
    patient: Patient
    sections: list[tuple[str, list[Any]]]
    hidden: int


def record_copy(*, actor: Actor, patient_id: int) -> RecordCopy:
    """Everything of the record the actor may see, for the patient (right of access)."""
    patient = _patient(patient_id)
    access = records_access.access_for(patient)
    records_access.require(
        actor,
        Action.PRINT,
        Category.CLINICAL,
        patient,
        access=access,
        purpose=Purpose.PATIENT_REQUEST,
        audit_success=False,  # the print is recorded once, by ``record_copy_pdf``
    )
    hidden = 0
    sections: list[tuple[str, list[Any]]] = []
    queries = [
        (_("Allergies and intolerances"), Allergy.objects.order_by("substance")),
        (_("Problems and history"), Problem.objects.order_by("-onset", "label")),
        (_("Consultations"), Encounter.objects.order_by("-occurred_at")),
        (
            _("Prescriptions"),
            Prescription.objects.prefetch_related("items").order_by("-prescribed_on"),
        ),
        (_("Vaccinations"), Immunization.objects.order_by("-vaccinated_on")),
        (_("Observations and results"), Observation.objects.order_by("-effective_at")),
        (_("Documents and letters"), Document.objects.order_by("-document_date")),
    ]
    for title, queryset in queries:
        entries = list(queryset.filter(patient=patient, status=EntryStatus.ACTIVE))
        shown = [e for e in entries if records_access.may_see_entry(actor, access, e, Action.PRINT)]
        hidden += len(entries) - len(shown)
        sections.append((title, shown))
    return RecordCopy(patient, sections, hidden)


def record_copy_pdf(*, actor: Actor, practice: Practice, patient_id: int) -> bytes:
    copy = record_copy(actor=actor, patient_id=patient_id)
    record_event(
        "patient.print",
        actor=actor,
        patient_id=copy.patient.pk,
        category=Category.CLINICAL.value,
        purpose=Purpose.PATIENT_REQUEST.value,
        details={"document": "record_copy", "hidden_entries": copy.hidden},
    )
    return render_pdf(
        "records/pdf/record_copy.html",
        {
            "practice": practice,
            "copy": copy,
            "patient": copy.patient,
            "printed_at": timezone.now(),
            "printed_by": actor.label,
        },
    )


def access_report(*, actor: Actor, patient_id: int) -> tuple[Patient, list[AccessLine]]:
    """Every access to the patient's record, one line each, from the audit trail
    (identity staff may print it for the patient: it holds no clinical content). The
    reading is audited (the PDF records its print instead)."""
    patient, report = _access_report(actor=actor, patient_id=patient_id)
    record_event(
        "access_report.read",
        actor=actor,
        patient_id=patient.pk,
        category=Category.ADMINISTRATIVE.value,
        purpose=Purpose.PATIENT_REQUEST.value,
    )
    return patient, report.lines


def _access_report(*, actor: Actor, patient_id: int) -> tuple[Patient, AccessReport]:
    patient = _patient(patient_id)
    records_access.require(
        actor,
        Action.PRINT,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.PATIENT_REQUEST,
        audit_success=False,  # the print is recorded once, by ``access_report_pdf``
    )
    return patient, report_for(patient_id=patient.pk, practice_id=patient.practice_id)


REPORT_LANGUAGES = ("fr", "en")


def access_report_pdf(
    *, actor: Actor, practice: Practice, patient_id: int, language: str = "fr"
) -> bytes:
    """The report on paper, in French unless the patient asks for English."""
    language = language if language in REPORT_LANGUAGES else "fr"
    with translation.override(language):
        patient, report = _access_report(actor=actor, patient_id=patient_id)
        record_event(
            "access_report.print",
            actor=actor,
            patient_id=patient.pk,
            category=Category.ADMINISTRATIVE.value,
            purpose=Purpose.PATIENT_REQUEST.value,
            details={"language": language, "lines": len(report.lines)},
        )
        return render_pdf(
            "records/pdf/access_report.html",
            {
                "practice": practice,
                "patient": patient,
                "lines": report.lines,
                "summary": report.summary,
                "printed_at": timezone.now(),
                "language": language,
            },
        )
