"""A member practice's account with the cooperative: its dues invoices, what it paid for
each, what is late. Read by the practice's administrators (their membership page) and
by the cooperative's administrators (a member's dues); dues invoices only, never a
patient's invoice. Runs in the practice's context (row-level security)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import DuesPayment, Invoice
from billing.services.dues import DUES_TERM_DAYS


@dataclass(frozen=True)
class DuesRow:
    invoice: Invoice
    payments: list[DuesPayment]
    paid: Decimal
    remaining: Decimal
    due_on: date
    late: bool

    @property
    def is_paid(self) -> bool:
        return self.remaining <= 0


@dataclass(frozen=True)
class DuesAccount:
    rows: list[DuesRow] = field(default_factory=list)
    invoiced: Decimal = Decimal("0.00")
    paid: Decimal = Decimal("0.00")
    remaining: Decimal = Decimal("0.00")
    late: Decimal = Decimal("0.00")


def dues_account(practice_id: int, today: date | None = None) -> DuesAccount:
    """The practice's dues, newest period first (two queries)."""
    today = today or timezone.localdate()
    invoices = (
        Invoice.objects.filter(
            practice_id=practice_id, kind=Invoice.Kind.DUES, status=Invoice.Status.ISSUED
        )
        .prefetch_related("dues_payments")
        .order_by("-service_date", "-pk")
    )
    rows = []
    for invoice in invoices:
        payments = list(invoice.dues_payments.all())
        paid = sum((p.amount for p in payments), Decimal("0.00"))
        remaining = invoice.total - paid
        issued = timezone.localdate(invoice.issued_at) if invoice.issued_at else today
        due_on = issued + timedelta(days=DUES_TERM_DAYS)
        rows.append(
            DuesRow(invoice, payments, paid, remaining, due_on, remaining > 0 and due_on < today)
        )
    return DuesAccount(
        rows=rows,
        invoiced=sum((r.invoice.total for r in rows), Decimal("0.00")),
        paid=sum((r.paid for r in rows), Decimal("0.00")),
        remaining=sum((r.remaining for r in rows), Decimal("0.00")),
        late=sum((r.remaining for r in rows if r.late), Decimal("0.00")),
    )
