"""The rows an import leaves in practice A, comparable across runs: every table the
import writes (the entries, their revisions, the prescription lines, the patients with
their care team and search words, ``ImportedResource``), without ids or timestamps.

A reference to a row of these tables becomes its rank in its table (by id, so in the
order of writing); a person becomes their username, a practice its slug.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from core.accounts.models import Person
from core.practices.models import Practice
from records.models import (
    Allergy,
    CareTeamMember,
    Document,
    Encounter,
    EntryRevision,
    Immunization,
    Observation,
    Patient,
    Prescription,
    PrescriptionItem,
    Problem,
)
from records.models.patients import PatientWord
from sharing.models import ImportedResource

TABLES: dict[str, type[models.Model]] = {
    "patient": Patient,
    "care_team": CareTeamMember,
    "patient_word": PatientWord,
    "encounter": Encounter,
    "problem": Problem,
    "allergy": Allergy,
    "prescription": Prescription,
    "prescription_item": PrescriptionItem,
    "immunization": Immunization,
    "observation": Observation,
    "document": Document,
    "entry_revision": EntryRevision,
    "imported": ImportedResource,
}
# When a row was written, not what it says.
IGNORED = {
    "id",
    "recorded_at",
    "updated_at",
    "created_at",
    "imported_at",
    "changed_at",
    "since",
    "gp_since",
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date | Decimal):
        return str(value)
    return value


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """The rows of every table about the imported patients, in the order of their ids
    (the practice context must be active: row-level security shows that practice's rows
    only)."""
    imported = ImportedResource.objects.filter(target_type="patient").values("target_id")
    ranks: dict[type[models.Model], dict[int, int]] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, model in TABLES.items():
        chosen = model._default_manager.order_by("pk")
        if model is Patient:
            chosen = chosen.filter(pk__in=imported)
        elif model is PrescriptionItem:
            chosen = chosen.filter(prescription__patient__in=imported)
        elif model is not ImportedResource:
            chosen = chosen.filter(patient__in=imported)
        found = list(chosen.values())
        ranks[model] = {row["id"]: rank for rank, row in enumerate(found)}
        rows[name] = found
    by_entry_type = {getattr(m, "ENTRY_TYPE", ""): m for m in TABLES.values()}
    by_entry_type["patient"] = Patient
    usernames = dict(Person.objects.values_list("pk", "username"))
    slugs = dict(Practice.objects.values_list("pk", "slug"))
    result: dict[str, list[dict[str, Any]]] = {}
    for name, model in TABLES.items():
        fields = {f.attname: f for f in model._meta.concrete_fields}
        plain_rows = []
        for row in rows[name]:
            plain: dict[str, Any] = {}
            for column, value in row.items():
                if column in IGNORED:
                    continue
                field = fields.get(column)
                related = field.related_model if field is not None else None
                if value is not None and related is Person:
                    value = usernames.get(value, value)
                elif value is not None and related is Practice:
                    value = slugs.get(value, value)
                elif value is not None and related in ranks:
                    value = ranks[related][value]  # type: ignore[index]
                plain[column] = _plain(value)
            if name == "imported":
                plain["target_id"] = ranks[by_entry_type[row["target_type"]]][row["target_id"]]
            if name == "entry_revision":
                plain["entry_id"] = ranks[by_entry_type[row["entry_type"]]][row["entry_id"]]
            plain_rows.append(plain)
        result[name] = plain_rows
    return result
