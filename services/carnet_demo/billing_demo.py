"""Demo billing: the recent consultations of the demo practice are billed, and most of
them paid, so that the cash journal, the FEC export and the reports have content. Beside
them: the practice's own tariff for a non-reimbursed act, the desk printer's calibration
and a nurse's home visit (AMI 4, IFD, IK)."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from stdnum import iban

from billing.models import Act, Invoice, InvoiceLine, PracticeTariff, PrinterOffset
from billing.pricing import Coverage
from billing.services import (
    CoverInput,
    LineInput,
    TariffInput,
    cover_record,
    invoice_draft,
    invoice_issue,
    issuer_bank_details_set,
    issuer_for,
    lines_from_text,
    payment_record,
    printer_offset_save,
    tariff_set,
)
from billing.suggest import suggested_codes
from core.access.policy import Actor
from core.accounts.models import Person
from records.models import Patient
from records.selectors.billing import latest_consultations

logger = logging.getLogger(__name__)
METHODS = ["cash", "cheque", "card", "cheque", "transfer"]


def demo_billing_create(*, secretary: Actor, count: int = 30) -> int:
    """Bill the ``count`` latest consultations (if nothing was billed yet). Returns the
    number of invoices issued."""
    if Invoice.objects.exists() or not Act.objects.exists():
        return 0  # already done, or fee schedules not loaded (`carnet load_fees`)
    today = timezone.localdate()
    encounters = latest_consultations(until=today, limit=count, excluding_kinds=("phone",))
    issued = 0
    for index, encounter in enumerate(encounters):
        author = Person.objects.get(pk=encounter.author_id)
        issuer = issuer_for(author)
        day = timezone.localtime(encounter.occurred_at).date()
        codes = suggested_codes(
            kind=encounter.kind,
            birth_date=encounter.birth_date,
            service_date=day,
            sector=issuer.sector,
        )
        if not codes:
            continue
        coverage = Coverage(
            has_complementary=index % 4 != 0,
            third_party_amo=index % 3 == 0,
            third_party_amc=index % 6 == 0,
        )
        try:
            draft = invoice_draft(
                actor=secretary,
                issuer=issuer,
                patient_id=encounter.patient_id,
                birth_date=encounter.birth_date,
                service_date=day,
                lines=[LineInput(code) for code in codes],
                coverage=coverage,
                encounter_id=encounter.id,
            )
        except ValidationError as error:
            # An old consultation with no tariff on its date: not billed in the demo.
            logger.info("demo: consultation %s not billed: %s", encounter.id, error.messages)
            continue
        invoice = invoice_issue(actor=secretary, invoice=draft)
        issued += 1
        if index % 5 != 4 and invoice.due_at_desk > 0:
            amount = (
                invoice.due_at_desk
                if index % 7
                else (invoice.due_at_desk / 2).quantize(Decimal("0.01"))
            )
            method = METHODS[index % len(METHODS)]
            payment_record(
                actor=secretary,
                invoice=invoice,
                method=method,
                amount=amount,
                idempotency_key=f"demo-{invoice.pk}",
                cheque_number=f"{1000000 + index}" if method == "cheque" else "",
            )
    _demo_covers(secretary, sorted({e.patient_id for e in encounters}))
    _demo_accounts(secretary, sorted({e.author_id for e in encounters}))
    return issued


def _demo_covers(secretary: Actor, patient_ids: list[int]) -> None:
    """The billed patients' cover, as the desk would have typed it from attestations."""
    start = timezone.localdate().replace(month=1, day=1)
    for index, patient_id in enumerate(patient_ids):
        cover_record(
            actor=secretary,
            patient_id=patient_id,
            values=CoverInput(
                regime="02" if index % 9 == 8 else "01",
                caisse_code="691",
                caisse_name="MSA Ain-Rhône" if index % 9 == 8 else "CPAM du Rhône",
                rights_from=start,
                long_term_condition=index % 7 == 3,
                c2s=index % 11 == 5,
                amc_name="" if index % 11 == 5 or index % 4 == 0 else "Mutuelle des Lilas",
                amc_number="" if index % 11 == 5 or index % 4 == 0 else "12345678",
            ),
        )


def _demo_accounts(secretary: Actor, practitioner_ids: list[int]) -> None:
    """Each practitioner's account for cheques (made-up numbers with valid keys)."""
    for index, person in enumerate(Person.objects.filter(pk__in=practitioner_ids)):
        bban = f"30006000011234567890{index:03d}"[-23:]
        issuer_bank_details_set(
            actor=secretary,
            person=person,
            bank_name="Banque des Canuts",
            iban=f"FR{iban.calc_check_digits('FR00' + bban)}{bban}",
        )


# The practice's own price for an act the Assurance Maladie does not pay for: a sports
# certificate, billed at the practice's tariff, not reimbursed (rate 0 %).
OWN_TARIFF = {
    "nomenclature": "NGAP",
    "code": "CNCI",
    "label": "Certificat de non contre-indication au sport (non remboursable)",
    "amount": Decimal("25.00"),
    "amo_rate": Decimal("0"),
    "profession": "gp",
    "source": "Tarif du cabinet (démonstration)",
}
DESK_PRINTER = "Accueil"
# The nurse's home visit as typed at the desk: AMI 4, the travel allowance, 12 km.
HOME_VISIT = "AMI4 IFD IK*12"


def demo_practice_settings_create(*, admin: Actor) -> None:
    """The practice's own tariff for a non-reimbursed act and the desk printer's
    calibration for the feuille de soins, as its administrator sets them (once)."""
    practice_id = admin.practice_id
    if practice_id is None:
        return
    if not PracticeTariff.objects.filter(practice_id=practice_id, code=OWN_TARIFF["code"]).exists():
        tariff_set(
            actor=admin,
            values=TariffInput(
                valid_from=timezone.localdate().replace(month=1, day=1),
                **OWN_TARIFF,  # type: ignore[arg-type]
            ),
            country="FR",
        )
    if not PrinterOffset.objects.filter(practice_id=practice_id, printer=DESK_PRINTER).exists():
        # Measured from the test print: the desk printer prints 1.5 mm too far left and
        # 1 mm too low.
        printer_offset_save(
            actor=admin, practice_id=practice_id, printer=DESK_PRINTER, x_mm="1.5", y_mm="-1"
        )


def demo_home_visit_create(*, nurse: Actor) -> Invoice | None:
    """One home visit of the nurse, billed and issued today (AMI 4, IFD, 12 km of IK),
    for the oldest demo patient. Once: skipped when the nurse has billed an IFD already,
    or when the fee schedules are not loaded."""
    person = Person.objects.get(pk=nurse.person_id)
    if not Act.objects.filter(code="IFD").exists():
        return None
    if InvoiceLine.objects.filter(invoice__issuer__person=person, code="IFD").exists():
        return None
    patient = Patient.objects.order_by("birth_date", "pk").first()
    if patient is None:
        return None
    draft = invoice_draft(
        actor=nurse,
        issuer=issuer_for(person),
        patient_id=patient.pk,
        birth_date=patient.birth_date,
        service_date=timezone.localdate(),
        lines=lines_from_text(HOME_VISIT),
        coverage=Coverage(has_complementary=True),
    )
    return invoice_issue(actor=nurse, invoice=draft)
