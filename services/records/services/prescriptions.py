"""Prescribing: an ordonnance with drug lines from the public drug database (BDPM)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.access.policy import Actor
from records.access import PatientAccess
from records.models import Drug, Encounter, Prescription, PrescriptionItem
from records.services.entries import entry_create


@dataclass(frozen=True)
class ItemInput:
    posology: str
    duration_days: int
    drug_cis: str = ""
    drug_label: str = ""  # free text when the drug is not in the database
    long_term_condition: bool = False
    substitutable: bool = True


@transaction.atomic
def prescription_create(
    *,
    actor: Actor,
    access: PatientAccess,
    items: list[ItemInput],
    renewals: int = 0,
    encounter: Encounter | None = None,
    note: str = "",
    sensitivity: str = "",
    prescribed_on: date | None = None,
) -> Prescription:
    """``prescribed_on`` defaults to today; an imported or shared prescription keeps its
    own date."""
    if not items:
        raise ValidationError({"items": _("A prescription needs at least one drug.")})
    drugs = Drug.objects.in_bulk([item.drug_cis for item in items if item.drug_cis])
    errors = {}
    for index, item in enumerate(items):
        if item.drug_cis and item.drug_cis not in drugs:
            errors[f"items.{index}.drug"] = _("Unknown drug code (CIS).")
        if not item.drug_cis and not item.drug_label.strip():
            errors[f"items.{index}.drug"] = _("Choose a drug.")
        if not item.posology.strip():
            errors[f"items.{index}.posology"] = _("Write the posology.")
        if not 1 <= item.duration_days <= 366:
            errors[f"items.{index}.duration_days"] = _("The duration is 1 to 366 days.")
    if errors:
        raise ValidationError(errors)
    prescription = entry_create(
        actor=actor,
        access=access,
        model=Prescription,
        renewals=renewals,
        encounter=encounter,
        note=note,
        sensitivity=sensitivity,
        **({"prescribed_on": prescribed_on} if prescribed_on else {}),
    )
    PrescriptionItem.objects.bulk_create(
        [
            PrescriptionItem(
                practice_id=prescription.practice_id,
                prescription=prescription,
                drug=drugs.get(item.drug_cis),
                drug_label=drugs[item.drug_cis].name if item.drug_cis else item.drug_label.strip(),
                posology=item.posology.strip(),
                duration_days=item.duration_days,
                long_term_condition=item.long_term_condition,
                substitutable=item.substitutable,
                position=index,
            )
            for index, item in enumerate(items)
        ]
    )
    return prescription
