"""Writes of the records service (one module per part of the record)."""

from records.services.consultations import consultation_record
from records.services.documents import certificate_write, document_upload, letter_write
from records.services.entries import (
    EditConflict,
    entry_build,
    entry_create,
    entry_mark_in_error,
    entry_update,
)
from records.services.identity import (
    IdentityConflict,
    patient_death_record,
    patient_gp_change,
    patient_identity_correct,
)
from records.services.kinds import (
    Allergy,
    ClinicalEntry,
    Document,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from records.services.patients import (
    care_team_add,
    care_team_remove,
    hold_registrations,
    patient_create,
    patient_merge,
)
from records.services.prescriptions import (
    HistoricalPrescriptions,
    ItemInput,
    PrescriptionBlocked,
    prescription_check,
    prescription_create,
)

__all__ = [
    "Allergy",
    "ClinicalEntry",
    "Document",
    "EditConflict",
    "Encounter",
    "HistoricalPrescriptions",
    "IdentityConflict",
    "Immunization",
    "ItemInput",
    "Observation",
    "Patient",
    "Prescription",
    "PrescriptionBlocked",
    "PrescriptionItem",
    "Problem",
    "care_team_add",
    "care_team_remove",
    "certificate_write",
    "consultation_record",
    "document_upload",
    "entry_build",
    "entry_create",
    "entry_mark_in_error",
    "entry_update",
    "hold_registrations",
    "letter_write",
    "patient_create",
    "patient_death_record",
    "patient_gp_change",
    "patient_identity_correct",
    "patient_merge",
    "prescription_check",
    "prescription_create",
]
