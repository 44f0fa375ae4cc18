"""Reading billing data: balances, statements, the cash journal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import QuerySet, Sum

from billing.models import CashDay, ChequeDeposit, Cover, Invoice, Issuer, Payment, PrinterOffset
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
        .prefetch_related("allocations__invoice__issuer")
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


@dataclass
class DepositGroup:
    """The cheques of a day made out to one issuer, and the account they go to: one
    deposit slip. Before the day is closed the account is the issuer's current one;
    after, the one written on the closed day's deposit."""

    issuer_id: int | None
    payee: str
    bank_name: str
    iban: str
    cheques: list[Payment] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((cheque.amount for cheque in self.cheques), Decimal("0.00"))

    @property
    def iban_printed(self) -> str:
        """In groups of four, as on a bank's RIB."""
        return " ".join(self.iban[i : i + 4] for i in range(0, len(self.iban), 4))


def cheque_issuer(cheque: Payment) -> Issuer | None:
    """Whom the cheque is made out to: the issuer of the invoice it settles."""
    for allocation in cheque.allocations.all():
        return allocation.invoice.issuer
    return None


def deposit_groups(journal: Journal) -> list[DepositGroup]:
    """The day's cheques, one group per issuer (never two issuers on one slip)."""
    deposits = {
        deposit.pk: deposit for deposit in ChequeDeposit.objects.filter(cash_day__day=journal.day)
    }
    groups: dict[int | None, DepositGroup] = {}
    for cheque in journal.payments:
        if cheque.method != Payment.Method.CHEQUE:
            continue
        deposit = deposits.get(cheque.cheque_deposit_id or 0)
        issuer = cheque_issuer(cheque)
        key = issuer.pk if issuer else None
        if key not in groups:
            groups[key] = (
                DepositGroup(key, deposit.payee, deposit.bank_name, deposit.iban)
                if deposit is not None
                else DepositGroup(
                    key,
                    issuer.name if issuer else "",
                    issuer.bank_name if issuer else "",
                    issuer.iban if issuer else "",
                )
            )
        groups[key].cheques.append(cheque)
    return sorted(groups.values(), key=lambda group: (group.payee, group.issuer_id or 0))


def issuer_account(person_id: int) -> str:
    """The practitioner's account as printed (IBAN in groups of four), or ""."""
    iban = Issuer.objects.filter(person_id=person_id).values_list("iban", flat=True).first()
    return DepositGroup(None, "", "", iban or "").iban_printed


def cover_history(patient_id: int) -> list[Cover]:
    """The patient's cover, latest first (the first is the one in force now)."""
    return list(
        Cover.objects.filter(patient_id=patient_id)
        .select_related("recorded_by")
        .order_by("-rights_from", "-recorded_at", "-pk")
    )


def cover_on(patient_id: int, day: date) -> Cover | None:
    """The cover recorded last among those whose rights had started on that day."""
    return (
        Cover.objects.filter(patient_id=patient_id, rights_from__lte=day)
        .order_by("-rights_from", "-recorded_at", "-pk")
        .first()
    )


def printer_offsets() -> list[PrinterOffset]:
    """The current practice's printers and their corrections (row-level security keeps
    to the practice)."""
    return list(PrinterOffset.objects.order_by("printer"))


def printer_offset(offset_id: int) -> PrinterOffset | None:
    return PrinterOffset.objects.filter(pk=offset_id).first()
