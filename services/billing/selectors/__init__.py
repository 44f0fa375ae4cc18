"""Reading billing data: balances, statements, the cash journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from billing.models import CashDay, Invoice, Payment
from billing.services.payments import remaining_due


def invoices_of_patient(patient_id: int) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(patient_id=patient_id)
        .select_related("issuer")
        .prefetch_related("lines", "allocations", "credit_notes")
        .order_by("-service_date", "-pk")
    )


@dataclass
class Statement:
    invoices: list[tuple[Invoice, Decimal]] = field(default_factory=list)  # (invoice, still due)
    balance: Decimal = Decimal("0.00")


def patient_statement(patient_id: int) -> Statement:
    statement = Statement()
    for invoice in invoices_of_patient(patient_id):
        due = remaining_due(invoice)
        statement.invoices.append((invoice, due))
        statement.balance += due
    return statement


@dataclass
class Journal:
    day: date
    cash_day: CashDay | None
    payments: list[Payment]
    totals: dict[str, Decimal]
    invoices_issued: int
    invoiced_total: Decimal


def cash_journal(day: date) -> Journal:
    cash_day = CashDay.objects.filter(day=day).first()
    payments = list(
        Payment.objects.filter(cash_day__day=day)
        .select_related("received_by")
        .prefetch_related("allocations__invoice")
        .order_by("received_at")
    )
    totals = {method: Decimal("0.00") for method in Payment.Method.values}
    for payment in payments:
        totals[payment.method] += payment.amount
    totals["total"] = sum((totals[m] for m in Payment.Method.values), Decimal("0.00"))
    issued = Invoice.objects.filter(status="issued", issued_at__date=day, kind="invoice")
    return Journal(
        day=day,
        cash_day=cash_day,
        payments=payments,
        totals=totals,
        invoices_issued=issued.count(),
        invoiced_total=issued.aggregate(total=Sum("total"))["total"] or Decimal("0.00"),
    )
