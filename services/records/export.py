"""The records service's part of a practice export (see core.export)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from core.export import dump, load
from core.practices.models import Practice
from records.models import (
    Allergy,
    CareTeamMember,
    Document,
    Encounter,
    EntryRevision,
    IdentityChange,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)

MODELS = [
    Patient,
    CareTeamMember,
    IdentityChange,
    Encounter,
    Problem,
    Allergy,
    Prescription,
    PrescriptionItem,
    Immunization,
    Observation,
    Document,
    EntryRevision,
]


def export_part(practice: Practice) -> list[dict[str, Any]]:
    rows: list[Model] = []
    # Merged patients point at the one kept: export the kept ones first.
    rows += list(Patient.objects.filter(practice=practice).order_by("merged_into_id", "pk"))
    for model in MODELS[1:]:
        rows += list(model._default_manager.filter(practice=practice).order_by("pk"))
    return dump(rows)


def document_files(practice: Practice) -> list[str]:
    return [
        name
        for name in Document.objects.filter(practice=practice).values_list("file", flat=True)
        if name
    ]


def import_part(data: list[dict[str, Any]]) -> int:
    return load(data)
