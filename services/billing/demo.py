"""Demo billing: the recent consultations of the demo practice are billed, and most of
them paid, so that the cash journal, the FEC export and the reports have content."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Act, Invoice
from billing.pricing import Coverage
from billing.services import LineInput, invoice_draft, invoice_issue, issuer_for, payment_record
from billing.suggest import suggested_codes
from core.access.policy import Actor
from core.accounts.models import Person
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
    return issued
