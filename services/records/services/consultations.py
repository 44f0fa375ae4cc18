"""Recording a consultation: the SOAP note, its vitals, and the time spent writing it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from core.access.policy import Actor
from records.access import PatientAccess
from records.models import Encounter, Observation
from records.services.entries import entry_create

# Longest time counted for writing one note: a form left open over lunch is not care work.
MAX_DOCUMENTATION_SECONDS = 2 * 3600


@dataclass(frozen=True)
class Vital:
    code: str  # LOINC
    label: str
    unit: str


VITALS = {
    "weight": Vital("29463-7", "Poids", "kg"),
    "height": Vital("8302-2", "Taille", "cm"),
    "systolic": Vital("8480-6", "Pression artérielle systolique", "mm[Hg]"),
    "diastolic": Vital("8462-4", "Pression artérielle diastolique", "mm[Hg]"),
    "heart_rate": Vital("8867-4", "Fréquence cardiaque", "/min"),
    "temperature": Vital("8310-5", "Température", "Cel"),
    "spo2": Vital("59408-5", "Saturation en oxygène", "%"),
}


def clamp_documentation(seconds: float) -> int:
    return int(min(max(seconds, 0), MAX_DOCUMENTATION_SECONDS))


@transaction.atomic
def consultation_record(
    *,
    actor: Actor,
    access: PatientAccess,
    reason: str,
    vitals: dict[str, Decimal] | None = None,
    documentation_seconds: float = 0,
    **note: Any,
) -> Encounter:
    """Create the consultation and one observation per vital sign given."""
    encounter = entry_create(
        actor=actor,
        access=access,
        model=Encounter,
        reason=reason,
        documentation_seconds=clamp_documentation(documentation_seconds),
        **note,
    )
    for name, value in (vitals or {}).items():
        if value is None:
            continue
        vital = VITALS[name]
        entry_create(
            actor=actor,
            access=access,
            model=Observation,
            encounter=encounter,
            effective_at=encounter.occurred_at,
            code=vital.code,
            label=vital.label,
            value=value,
            unit=vital.unit,
            sensitivity=encounter.sensitivity,
        )
    return encounter
