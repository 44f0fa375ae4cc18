"""An invoice as JSON, without a serializer per field.

Issuing an invoice is a hot write (the desk issues one per patient seen). DRF's
``InvoiceOutput`` (kept in ``billing.api`` for the OpenAPI description) built a serializer
for the invoice and each line, and read the lines and what is still due in two more
round trips; this module writes the same document from a fixed list of fields, reading
the lines and what is due in one. ``tests/perf/test_invoice_output.py`` checks that both
give the same document.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from billing.models import Invoice, InvoiceLine
from billing.services.payments import credited_and_paid, remaining_from
from core.prepared import Prepared, fetch_together

_LINES = Prepared(lambda invoice: InvoiceLine.objects.filter(invoice_id=invoice))
_CENT = Decimal("0.01")
_AMOUNTS = Context(prec=10, rounding=ROUND_HALF_EVEN)  # as DRF's DecimalField(10, 2)

INVOICE_AMOUNTS = (
    "total",
    "amo_amount",
    "amc_amount",
    "patient_amount",
    "patient_contribution",
    "due_at_desk",
)
LINE_AMOUNTS = ("base_amount", "excess_amount", "charged_amount")


def _amount(value: Decimal) -> str:
    return f"{value.quantize(_CENT, context=_AMOUNTS):f}"


def invoice_document(invoice: Invoice) -> dict[str, Any]:
    lines, due_rows = fetch_together(_LINES.bind(invoice=invoice.pk), credited_and_paid(invoice))
    document: dict[str, Any] = {
        "id": invoice.pk,
        "reference": str(invoice.reference),
        "kind": str(invoice.kind),
        "status": str(invoice.status),
        "patient": invoice.patient_id,
        "service_date": invoice.service_date.isoformat(),
    }
    for name in INVOICE_AMOUNTS:
        document[name] = _amount(getattr(invoice, name))
    document["still_due"] = f"{remaining_from(invoice, due_rows):.2f}"
    document["lines"] = [
        {
            "code": str(line.code),
            "label": str(line.label),
            "quantity": int(line.quantity),
            "coefficient": f"{line.coefficient:.2f}",
            **{name: _amount(getattr(line, name)) for name in LINE_AMOUNTS},
        }
        for line in lines
    ]
    return document
