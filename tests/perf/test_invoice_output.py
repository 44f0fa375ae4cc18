"""The invoice's JSON written without DRF serializers is the same document as DRF's:
a draft, an issued invoice with several lines, partly paid, and a credited one with its
credit note."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from billing.api import InvoiceOutput
from billing.invoice_output import invoice_document
from billing.models import Invoice, Issuer
from billing.pricing import Coverage
from billing.services import (
    LineInput,
    credit_note_issue,
    invoice_draft,
    invoice_issue,
    payment_record,
)
from tests.fixtures import World


def rendered(data: object) -> object:
    return json.loads(JSONRenderer().render(data))


def same_document(invoice: Invoice) -> dict:
    expected = rendered(InvoiceOutput(invoice).data)
    assert rendered(invoice_document(invoice)) == expected
    return expected  # type: ignore[return-value]


def test_the_invoice_document_is_the_serializers_document(
    billing_world: World, alice_issuer: Issuer
) -> None:
    world = billing_world
    actor = world.actor(world.alice)
    draft = invoice_draft(
        actor=actor,
        issuer=alice_issuer,
        patient_id=world.paul.pk,
        birth_date=date(2022, 1, 1),  # a young child: G with its MEG supplement
        service_date=timezone.localdate(),
        lines=[LineInput("G"), LineInput("MEG")],
        coverage=Coverage(has_complementary=True),
    )
    assert same_document(draft)["status"] == "draft"
    issued = invoice_issue(actor=actor, invoice=draft)
    document = same_document(issued)
    assert len(document["lines"]) == 2 and document["still_due"] != "0.00"
    payment_record(
        actor=world.actor(world.sam),
        invoice=issued,
        method="cash",
        amount=Decimal("5.00"),
        idempotency_key="k-output",
    )
    issued.refresh_from_db()
    paid = same_document(issued)
    assert Decimal(paid["still_due"]) == Decimal(document["still_due"]) - Decimal("5.00")
    note = credit_note_issue(actor=actor, invoice=issued, reason="erreur de cotation")
    issued.refresh_from_db()
    assert same_document(issued)["still_due"] == "0.00"
    assert same_document(note)["kind"] == "credit_note"
