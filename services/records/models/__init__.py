"""The records service's tables, one module per part of the record."""

from records.models.care_time import (
    ActKind,
    CareTimeSharing,
    DocumentationAct,
    DocumentationOpening,
)
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
from records.models.reference import (
    AtcClass,
    Cim10Code,
    Cim10Word,
    Drug,
    DrugComponent,
    DrugWord,
    Interaction,
    InteractionClassMember,
    ReferenceKey,
    ReferenceWord,
    Substance,
)

__all__ = [
    "ActKind",
    "Allergy",
    "AtcClass",
    "CareTeamMember",
    "CareTimeSharing",
    "Cim10Code",
    "Cim10Word",
    "Document",
    "DocumentationAct",
    "DocumentationOpening",
    "Drug",
    "DrugComponent",
    "DrugWord",
    "Encounter",
    "EntryRevision",
    "IdentityChange",
    "Immunization",
    "Interaction",
    "InteractionClassMember",
    "NameKey",
    "NameWord",
    "Observation",
    "Patient",
    "PatientWord",
    "Prescription",
    "PrescriptionItem",
    "Problem",
    "ReferenceKey",
    "ReferenceWord",
    "Substance",
]
