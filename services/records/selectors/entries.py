"""The record's rows by kind, for the services above records (sharing's FHIR API, the
content of a share, the portability copy) that must not use records' models.

These are plain reads of the current practice (row-level security): they decide
nothing. The caller goes through the policy (``records.access``) before serving a row:
the record-level decision, then entry by entry.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet

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

# The kinds of rows a service above may read, by name. A prescription's line
# (``prescription_item``) is served on its own (a MedicationRequest); the policy decides
# on its prescription.
ENTRY_MODELS: dict[str, type[Model]] = {
    "encounter": Encounter,
    "problem": Problem,
    "allergy": Allergy,
    "prescription": Prescription,
    "prescription_item": PrescriptionItem,
    "immunization": Immunization,
    "observation": Observation,
    "document": Document,
}

__all__ = [
    "ENTRY_MODELS",
    "EntryStatus",
    "Patient",
    "active_entries",
    "encounter_of_practice",
    "entry_rows",
    "entry_type",
    "patient_of_practice",
]


def entry_rows(kind: str) -> QuerySet[Any]:
    """Every row of one kind in the current practice, for the caller to filter."""
    return ENTRY_MODELS[kind]._default_manager.all()


def active_entries(kind: str, patient: Patient) -> QuerySet[Any]:
    """The patient's active rows of one kind (a prescription line: of an active
    prescription of the patient)."""
    if kind == "prescription_item":
        return PrescriptionItem.objects.filter(
            prescription__patient=patient, prescription__status=EntryStatus.ACTIVE
        )
    return entry_rows(kind).filter(patient=patient, status=EntryStatus.ACTIVE)


def entry_type(kind: str) -> str:
    """The name the policy and the patient's exclusions give this kind ("" for a
    prescription's line: the prescription is the entry)."""
    return str(getattr(ENTRY_MODELS[kind], "ENTRY_TYPE", ""))


def patient_of_practice(patient_id: int) -> Patient | None:
    """The patient of the current practice with this id, or None (another practice's
    patient is invisible). No decision: the caller asks the policy."""
    return Patient.objects.filter(pk=patient_id).first()


def encounter_of_practice(encounter_id: int | None) -> Encounter | None:
    """A consultation of the current practice by id (None if there is none)."""
    return Encounter.objects.filter(pk=encounter_id).first() if encounter_id else None
