"""Prescribing: an ordonnance with drug lines from the public drug database (BDPM),
in DCI, with a structured posology, checked for allergies, interactions and the same
substance twice (``records.safety``) before it is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access.policy import Actor, Category
from core.audit.services import record_event
from records import posology as text
from records import safety
from records.access import PatientAccess
from records.models import Drug, Encounter, Prescription, PrescriptionItem
from records.models.clinical import TREATMENT_LOOKBACK_DAYS
from records.selectors.prescribing import (
    allergy_facts,
    check_lines,
    current_treatment,
    drug_facts,
    rules_for,
    treatment_facts,
)
from records.services.entries import entry_build, entry_create

MAX_DOSE_QUANTITY = Decimal(1000)
PERIODS = ("day", "week")


@dataclass(frozen=True)
class ItemInput:
    """One line as the prescriber gave it. The posology is structured (quantity, unit,
    frequency), free text (``posology``), or both: the free text is printed after."""

    duration_days: int
    posology: str = ""
    drug_cis: str = ""
    drug_label: str = ""  # free text when the drug is not in the database
    long_term_condition: bool = False
    substitutable: bool = True
    dose_quantity: Decimal | None = None
    dose_unit: str = ""
    frequency: int | None = None
    frequency_period: str = "day"
    show_brand: bool = False


class PrescriptionBlocked(ValidationError):
    """A blocking alert (allergy, contre-indication) and no reason to go on."""

    def __init__(self, alerts: list[safety.Alert]) -> None:
        self.alerts = alerts
        super().__init__(
            {
                "override_reason": _(
                    "This prescription has a blocking alert (allergy or contra-indication): "
                    "to go on, give the reason."
                ),
                "alerts": [alert.what for alert in alerts],
            }
        )


def _validate(items: list[ItemInput], drugs: dict[str, Drug]) -> None:
    errors = {}
    for index, item in enumerate(items):
        if item.drug_cis and item.drug_cis not in drugs:
            errors[f"items.{index}.drug"] = _("Unknown drug code (CIS).")
        if not item.drug_cis and not item.drug_label.strip():
            errors[f"items.{index}.drug"] = _("Choose a drug.")
        if item.dose_quantity is not None and not 0 < item.dose_quantity <= MAX_DOSE_QUANTITY:
            errors[f"items.{index}.dose_quantity"] = _(
                "The quantity per dose is more than 0 and at most 1000."
            )
        if item.dose_quantity is not None and not item.dose_unit.strip():
            errors[f"items.{index}.dose_unit"] = _("Give the unit of the dose.")
        if item.frequency is not None and not 1 <= item.frequency <= 48:
            errors[f"items.{index}.frequency"] = _("The number of times is 1 to 48.")
        if item.frequency_period not in PERIODS:
            errors[f"items.{index}.frequency_period"] = _("Per day or per week.")
        structured = item.dose_quantity is not None and item.frequency is not None
        if not structured and not item.posology.strip():
            errors[f"items.{index}.posology"] = _(
                "Write the posology: the quantity, the unit and how many times, or a text."
            )
        if not 1 <= item.duration_days <= 366:
            errors[f"items.{index}.duration_days"] = _("The duration is 1 to 366 days.")
    if errors:
        raise ValidationError(errors)


def line_facts(items: list[ItemInput]) -> list[safety.DrugFacts]:
    known = drug_facts(item.drug_cis for item in items)
    return [
        known.get(item.drug_cis) or safety.DrugFacts(label=item.drug_label.strip() or "?")
        for item in items
    ]


def prescription_check(
    *, actor: Actor, access: PatientAccess, items: list[ItemInput]
) -> list[list[safety.Alert]]:
    """The alerts of each line, as the form shows them when a drug is picked."""
    return check_lines(actor=actor, access=access, lines=line_facts(items))


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
    override_reason: str = "",
    historical: bool = False,
) -> Prescription:
    """Check the lines again (whatever the form showed), refuse a blocking alert without
    a reason, save, and audit the override with the alerts' codes.

    ``prescribed_on`` defaults to today; an imported or shared prescription keeps its
    own date. A ``historical`` prescription (imported from another system, a demo
    history) records what was prescribed then: its alerts are kept with it but block
    nothing, since nobody is prescribing now."""
    if not items:
        raise ValidationError({"items": _("A prescription needs at least one drug.")})
    drugs = Drug.objects.in_bulk([item.drug_cis for item in items if item.drug_cis])
    _validate(items, drugs)
    facts = line_facts(items)
    alerts = [a for line in check_lines(actor=actor, access=access, lines=facts) for a in line]
    blocks = safety.blocking(alerts)
    override_reason = override_reason.strip()
    if historical:
        blocks = []
    if blocks and not override_reason:
        raise PrescriptionBlocked(blocks)
    prescription = entry_create(
        actor=actor,
        access=access,
        model=Prescription,
        renewals=renewals,
        encounter=encounter,
        note=note,
        sensitivity=sensitivity,
        alerts=sorted({alert.code for alert in alerts}),
        override_reason=override_reason if blocks else "",
        **({"prescribed_on": prescribed_on} if prescribed_on else {}),
    )
    PrescriptionItem.objects.bulk_create(
        [
            _item(prescription, index, item, drugs, fact)
            for index, (item, fact) in enumerate(zip(items, facts, strict=True))
        ]
    )
    if blocks:
        record_event(
            "prescription.override",
            actor=actor,
            patient_id=access.patient.pk,
            category=Category.CLINICAL.value,
            target=f"prescription:{prescription.pk}",
            reason=override_reason,
            details={"alerts": sorted({alert.code for alert in blocks})},
        )
    return prescription


class HistoricalPrescriptions:
    """A patient's historical prescriptions (imported) built one after the other, as
    ``prescription_create`` would save them: the same checks, the same alerts kept
    (blocking nothing). Nothing is saved nor audited here: a bulk import decides the
    policy once per patient (the write, and the read of the record the alerts need),
    writes the rows together and records one event per patient.

    The record is read once (allergies, current treatment); each prescription built
    joins the current treatment the next one is checked against, as it would once
    saved. The caller must not add allergies or prescriptions to this patient in
    between."""

    def __init__(self, *, actor: Actor, access: PatientAccess) -> None:
        self.actor = actor
        self.access = access
        self.allergies, hidden_allergies = allergy_facts(actor, access)
        items, hidden_prescriptions = current_treatment(actor, access)
        self.treatment = treatment_facts(items)
        self.hidden = hidden_allergies + hidden_prescriptions
        self.today = timezone.localdate()

    def build(
        self,
        *,
        items: list[ItemInput],
        renewals: int,
        encounter_id: int | None,
        prescribed_on: date,
    ) -> tuple[Prescription, list[PrescriptionItem]]:
        """The prescription and its lines (``line.prescription`` to set once saved)."""
        if not items:
            raise ValidationError({"items": _("A prescription needs at least one drug.")})
        drugs = Drug.objects.in_bulk([item.drug_cis for item in items if item.drug_cis])
        _validate(items, drugs)
        facts = line_facts(items)
        known = safety.Facts(
            allergies=self.allergies,
            treatment=list(self.treatment),
            rules=rules_for(facts, [*self.treatment, *facts]),
            hidden_entries=self.hidden,
        )
        alerts = [
            alert
            for index, line in enumerate(facts)
            for alert in safety.check(line, known, others=list(facts[:index]))
        ]
        prescription = entry_build(
            actor=self.actor,
            access=self.access,
            model=Prescription,
            renewals=renewals,
            encounter_id=encounter_id,
            note="",
            sensitivity="",
            alerts=sorted({alert.code for alert in alerts}),
            override_reason="",
            prescribed_on=prescribed_on,
        )
        lines = [
            _item(prescription, index, item, drugs, fact)
            for index, (item, fact) in enumerate(zip(items, facts, strict=True))
        ]
        # What current_treatment will read once it is saved: an active prescription of
        # the last two years whose end has not passed (its author sees it).
        recent = prescribed_on >= self.today - timedelta(days=TREATMENT_LOOKBACK_DAYS)
        current = [
            line
            for line in lines
            if prescribed_on + timedelta(days=line.duration_days * (1 + renewals)) >= self.today
        ]
        if recent:
            self.treatment.extend(treatment_facts(current))
        return prescription, lines


def _item(
    prescription: Prescription,
    index: int,
    item: ItemInput,
    drugs: dict[str, Drug],
    fact: safety.DrugFacts,
) -> PrescriptionItem:
    drug = drugs.get(item.drug_cis)
    structured = text.posology(
        quantity=item.dose_quantity,
        unit=item.dose_unit.strip(),
        frequency=item.frequency,
        period=item.frequency_period,
        note=item.posology,
    )
    return PrescriptionItem(
        practice_id=prescription.practice_id,
        prescription=prescription,
        drug=drug,
        drug_label=drug.name if drug else item.drug_label.strip(),
        dci=drug.dci if drug else "",
        show_brand=item.show_brand and drug is not None,
        posology=structured[:300],
        dose_quantity=item.dose_quantity,
        dose_unit=item.dose_unit.strip(),
        frequency=item.frequency,
        frequency_period=item.frequency_period if item.frequency else "",
        posology_note=item.posology.strip(),
        secure=text.needs_secure_prescription(s.moiety for s in fact.substances),
        duration_days=item.duration_days,
        long_term_condition=item.long_term_condition,
        substitutable=item.substitutable,
        position=index,
    )
