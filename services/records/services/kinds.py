"""The kinds of entry the records services write, and their choices, named for the
services above records (sharing's FHIR import): ``entry_create`` and ``entry_build`` (whose
rows a bulk import writes) take the kind as their ``model``, and a patient's sex or a
consultation's kind is one of these choices.

They are named, never queried, from above: reads go through ``records.selectors``.
"""

from __future__ import annotations

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
from records.models.clinical import ClinicalEntry

__all__ = [
    "Allergy",
    "ClinicalEntry",
    "Document",
    "Encounter",
    "Immunization",
    "Observation",
    "Patient",
    "Prescription",
    "PrescriptionItem",
    "Problem",
]
