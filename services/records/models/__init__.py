"""The records service's tables, one module per part of the record."""

from records.models.clinical import (
    Allergy,
    Encounter,
    EntryRevision,
    Immunization,
    Observation,
    Prescription,
    PrescriptionItem,
    Problem,
)
from records.models.documents import Document
from records.models.patients import (
    CareTeamMember,
    IdentityChange,
    NameKey,
    NameWord,
    Patient,
    PatientWord,
)
from records.models.reference import Cim10Code, Drug

__all__ = [
    "Allergy",
    "CareTeamMember",
    "Cim10Code",
    "Document",
    "Drug",
    "Encounter",
    "EntryRevision",
    "IdentityChange",
    "Immunization",
    "NameKey",
    "NameWord",
    "Observation",
    "Patient",
    "PatientWord",
    "Prescription",
    "PrescriptionItem",
    "Problem",
]
