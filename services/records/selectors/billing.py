"""What billing may know of the record: administrative facts only.

A secretary bills a consultation without seeing its note: these selectors return the
date, kind and author of consultations and the patient's identity, never clinical text,
and go through the policy as administrative reads for the purpose of billing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.http import Http404
from django.utils.translation import gettext as _

from core.access.policy import Action, Actor, Category, Purpose
from records import access as records_access
from records import niss
from records.models import Encounter, Patient
from records.models.clinical import EntryStatus
from records.selectors.patients import patient_with_access


@dataclass(frozen=True)
class EncounterFacts:
    id: int
    occurred_at: datetime
    kind: str
    author_id: int

    @property
    def kind_label(self) -> str:
        """The kind as people read it ("Consultation au cabinet"), not its code."""
        return str(Encounter.Kind(self.kind).label)


def patient_for_billing(*, actor: Actor, patient_id: int) -> Patient:
    patient, access = patient_with_access(patient_id)
    records_access.require(
        actor,
        Action.READ,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.BILLING,
        access=access,
    )
    return patient


def patient_for_cover(*, actor: Actor, patient_id: int) -> Patient:
    """The patient whose insurance cover the desk records: an administrative write
    (refusals audited; the write itself is audited by billing, with what changed)."""
    patient, access = patient_with_access(patient_id)
    records_access.require(
        actor,
        Action.WRITE,
        Category.ADMINISTRATIVE,
        patient,
        purpose=Purpose.ADMINISTRATION,
        access=access,
        audit_success=False,
    )
    return patient


def encounters_to_bill(*, actor: Actor, patient: Patient, limit: int = 20) -> list[EncounterFacts]:
    """The patient's recent consultations: when, what kind, by whom (no content)."""
    rows = (
        Encounter.objects.filter(patient=patient, status=EntryStatus.ACTIVE)
        .order_by("-occurred_at")
        .values_list("pk", "occurred_at", "kind", "author_id")[:limit]
    )
    return [EncounterFacts(*row) for row in rows]


def encounter_for_billing(*, actor: Actor, patient: Patient, encounter_id: int) -> EncounterFacts:
    row = (
        Encounter.objects.filter(pk=encounter_id, patient=patient, status=EntryStatus.ACTIVE)
        .values_list("pk", "occurred_at", "kind", "author_id")
        .first()
    )
    if row is None:
        raise Http404(_("No such consultation."))
    return EncounterFacts(*row)


def is_billable_encounter(*, patient_id: int, encounter_id: int) -> bool:
    """Whether this consultation may be named on the patient's invoice: one of this
    patient's, in the current practice (row-level security), not entered in error."""
    return Encounter.objects.filter(
        pk=encounter_id, patient_id=patient_id, status=EntryStatus.ACTIVE
    ).exists()


@dataclass(frozen=True)
class DocumentationTime:
    author_id: int
    consultations: int
    seconds: int


def documentation_time(*, start: date, end: date) -> list[DocumentationTime]:
    """Per practitioner of the current practice: consultations and time spent writing
    them between two dates (inclusive). Aggregates only: no patient is named."""
    rows = (
        Encounter.objects.filter(
            status=EntryStatus.ACTIVE, occurred_at__date__gte=start, occurred_at__date__lte=end
        )
        .values("author_id")
        .annotate(consultations=Count("id"), seconds=Sum("documentation_seconds"))
        .order_by("author_id")
    )
    return [
        DocumentationTime(row["author_id"], row["consultations"], row["seconds"] or 0)
        for row in rows
    ]


@dataclass(frozen=True)
class ConsultationToBill:
    """A consultation and what an invoice needs of its patient (no clinical content)."""

    id: int
    occurred_at: datetime
    kind: str
    author_id: int
    patient_id: int
    birth_date: date


def latest_consultations(
    *, until: date, limit: int, excluding_kinds: tuple[str, ...] = ()
) -> list[ConsultationToBill]:
    """The practice's latest active consultations up to a day (inclusive), newest first.
    For the demo data, which bills them as the practice's secretary: no person reads
    them here, so no decision is asked of the policy."""
    rows = (
        Encounter.objects.filter(status=EntryStatus.ACTIVE, occurred_at__date__lte=until)
        .exclude(kind__in=excluding_kinds)
        .order_by("-occurred_at")
        .values_list("pk", "occurred_at", "kind", "author_id", "patient_id", "patient__birth_date")[
            :limit
        ]
    )
    return [ConsultationToBill(*row) for row in rows]


def check_national_number(value: str, country: str) -> None:
    """A Belgian practice bills a patient under a valid NISS: a French NIR recorded for
    the patient (or a wrong number) is refused with the reason; empty is allowed (the
    attestation is then filled in by hand). French practices keep the NIR's own checks."""
    if country != "BE" or not value:
        return
    try:
        niss.validate(value)
    except ValidationError as error:
        raise ValidationError(
            {"patient": [_("Correct the patient's national number first."), *error.messages]}
        ) from error
