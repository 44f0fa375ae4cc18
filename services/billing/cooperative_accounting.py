"""The cooperative's own books: its dues invoices to the member practices and the
payments it received for them, as accounting entries and a FEC file (the same engine as
a practice's books, ``billing.fec``).

Accounts (plan comptable général):
- 411000 Adhérents — what each member owes, one auxiliary account per member
  (``ADH<practice id>``, with the practice's name): debit on the dues invoice, credit on
  its payment;
- 756000 Cotisations — the dues invoiced (credit);
- 512000 Banque (transfers), 511200 Chèques à encaisser (cheques) — where payments go.
Journals: VT (the dues invoices), BQ (the payments received).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from billing.accounting import BANK, CHEQUES, ZERO
from billing.fec import FecEntry
from billing.models import DuesPayment, Invoice
from core import tenancy

MEMBERS = ("411000", "Adhérents")
DUES = ("756000", "Cotisations")
PAYMENT_ACCOUNTS = {"transfer": BANK, "cheque": CHEQUES}


@dataclass(frozen=True)
class Member:
    practice_id: int
    name: str

    @property
    def account(self) -> tuple[str, str]:
        return f"ADH{self.practice_id}", self.name


def dues_invoice_entry(invoice: Invoice, member: Member) -> FecEntry:
    assert invoice.issued_at is not None
    day = timezone.localtime(invoice.issued_at).date()
    return FecEntry(
        journal_code="VT",
        journal_lib="Ventes",
        date=day,
        piece_ref=invoice.reference,
        piece_date=day,
        label=f"Cotisation {invoice.service_date:%m/%Y} {invoice.reference}",
        movements=[
            (*MEMBERS, *member.account, invoice.total, ZERO),
            (*DUES, "", "", ZERO, invoice.total),
        ],
    )


def dues_payment_entry(payment: DuesPayment, member: Member) -> FecEntry:
    kind = "Chèque" if payment.method == DuesPayment.Method.CHEQUE else "Virement"
    return FecEntry(
        journal_code="BQ",
        journal_lib="Banque",
        date=payment.paid_on,
        piece_ref=payment.reference,
        piece_date=payment.paid_on,
        label=f"{kind} {payment.reference} pour {payment.invoice.reference}",
        movements=[
            (*PAYMENT_ACCOUNTS[payment.method], "", "", payment.amount, ZERO),
            (*MEMBERS, *member.account, ZERO, payment.amount),
        ],
    )


def cooperative_entries_between(start: date, end: date, members: list[Member]) -> list[FecEntry]:
    """Every dues invoice issued and every dues payment received between two dates
    (inclusive), over all members. Each member's rows are its own (row-level security):
    read within its context, one member at a time."""
    entries: list[FecEntry] = []
    for member in members:
        with tenancy.practice_context(member.practice_id):
            invoices = Invoice.objects.filter(
                practice_id=member.practice_id,
                kind=Invoice.Kind.DUES,
                status=Invoice.Status.ISSUED,
                issued_at__date__gte=start,
                issued_at__date__lte=end,
            ).order_by("issued_at", "pk")
            payments = (
                DuesPayment.objects.filter(
                    practice_id=member.practice_id, paid_on__gte=start, paid_on__lte=end
                )
                .select_related("invoice")
                .order_by("paid_on", "pk")
            )
            entries += [dues_invoice_entry(invoice, member) for invoice in invoices]
            entries += [dues_payment_entry(payment, member) for payment in payments]
    return entries
