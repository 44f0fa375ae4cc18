"""The billing service's part of a practice export (see core.export).

Issued invoices and closed days are frozen by the database; on import they are written
in their open state first, their lines and payments added, then issued and closed
again — the same transitions as when they were made, so the triggers stay untouched.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from billing.models import (
    Allocation,
    CashDay,
    ChequeDeposit,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Issuer,
    Payment,
)
from core.export import dump, load, members
from core.practices.models import Practice


def export_part(practice: Practice) -> list[dict[str, Any]]:
    issuers = Issuer.objects.filter(person_id__in=members(practice))
    rows: list[Model] = [*issuers, *InvoiceCounter.objects.filter(issuer__in=issuers)]
    # The cooperative's dues invoices to the practice are the cooperative's, issued in its
    # own series by its own issuer: they stay with it (the membership page prints them).
    invoices = (
        Invoice.objects.filter(practice=practice)
        .exclude(kind=Invoice.Kind.DUES)
        .order_by("credited_invoice_id", "pk")
    )
    lines = InvoiceLine.objects.filter(practice=practice).exclude(invoice__kind=Invoice.Kind.DUES)
    rows += [*invoices, *lines.order_by("pk")]
    rows += [
        *CashDay.objects.filter(practice=practice).order_by("pk"),
        *ChequeDeposit.objects.filter(practice=practice).order_by("pk"),
        *Payment.objects.filter(practice=practice).order_by("pk"),
        *Allocation.objects.filter(practice=practice).order_by("pk"),
    ]
    return dump(rows)


def import_part(data: list[dict[str, Any]]) -> int:
    frozen_invoices: dict[int, dict[str, Any]] = {}
    closed_days: dict[int, dict[str, Any]] = {}
    for item in data:
        fields = item["fields"]
        if item["model"] == "billing.invoice" and fields["status"] == "issued":
            frozen_invoices[item["pk"]] = {"status": "issued"}
            fields["status"] = "draft"
        if item["model"] == "billing.cashday" and fields["closed_at"]:
            closed_days[item["pk"]] = {"closed_at": fields["closed_at"]}
            fields["closed_at"] = None
    count = load(data)
    for pk, values in frozen_invoices.items():
        Invoice.objects.filter(pk=pk).update(**values)
    for pk, values in closed_days.items():
        CashDay.objects.filter(pk=pk).update(**values)
    return count
