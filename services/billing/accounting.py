"""From invoices and payments to accounting entries, and to the FEC file.

Accounts (plan comptable général):
- 706000 Honoraires — the fees invoiced (credit);
- 411000 Patients — what patients owe at the desk (debit on the invoice, credit on payment);
- 467100 Assurance maladie obligatoire, 467200 Complémentaires — what insurers owe under
  third-party payment, one auxiliary account per insurer (``AMO751`` for a caisse,
  ``AMC12345678`` for a mutuelle, as the patient's cover on the date of care names it);
  an insurer's transfer credits its account (what it does not settle stays there, a
  credit the accountant sees);
- 531000 Caisse (cash), 511200 Chèques à encaisser (cheques), 512000 Banque (card,
  transfer) — where payments go.
Journals: VT (ventes: invoices and credit notes), CA (caisse), BQ (banque).
Patients appear by number only (``P<id>``): an accountant needs no name.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from django.utils import timezone

from billing.fec import FecEntry, escape_text, number_entries, write_fec
from billing.models import Invoice, Payment
from billing.selectors import cover_on
from billing.selectors.receivables import insurer_of

FEES = ("706000", "Honoraires")
PATIENTS = ("411000", "Patients")
AMO = ("467100", "Assurance maladie obligatoire")
AMC = ("467200", "Complémentaires santé")
CASH = ("531000", "Caisse")
CHEQUES = ("511200", "Chèques à encaisser")
BANK = ("512000", "Banque")
ZERO = Decimal("0.00")

PAYMENT_ACCOUNTS = {"cash": CASH, "cheque": CHEQUES, "card": BANK, "transfer": BANK}


def _patient(patient_id: int | None) -> tuple[str, str]:
    return (f"P{patient_id}", f"Patient {patient_id}") if patient_id else ("", "")


def _insurer(code: str, name: str) -> tuple[str, str]:
    """The insurer's auxiliary account ("amo:751" -> "AMO751"), none when not recorded."""
    payer, _colon, number = code.partition(":")
    return (f"{payer.upper()}{number}", name) if number else ("", "")


def _insurers(invoice: Invoice) -> tuple[tuple[str, str], tuple[str, str]]:
    cover = cover_on(invoice.patient_id, invoice.service_date) if invoice.patient_id else None
    return _insurer(*insurer_of(cover, "amo")), _insurer(*insurer_of(cover, "amc"))


def invoice_entry(invoice: Invoice) -> FecEntry:
    """Invoice: debit what each payer owes, credit the fees. A credit note reverses it."""
    assert invoice.issued_at is not None
    day = timezone.localtime(invoice.issued_at).date()
    insurer_amo = (
        invoice.amo_amount + invoice.patient_contribution if invoice.third_party_amo else ZERO
    )
    insurer_amc = invoice.amc_amount if invoice.third_party_amc else ZERO
    amo, amc = _insurers(invoice) if insurer_amo or insurer_amc else (("", ""), ("", ""))
    owed = [
        (*PATIENTS, *_patient(invoice.patient_id), invoice.due_at_desk),
        (*AMO, *amo, insurer_amo),
        (*AMC, *amc, insurer_amc),
    ]
    credit_note = invoice.kind == Invoice.Kind.CREDIT_NOTE
    movements = []
    for number, label, aux, aux_label, amount in owed:
        if amount > 0:
            debit, credit = (ZERO, amount) if credit_note else (amount, ZERO)
            movements.append((number, label, aux, aux_label, debit, credit))
    fees_debit, fees_credit = (invoice.total, ZERO) if credit_note else (ZERO, invoice.total)
    movements.append((*FEES, "", "", fees_debit, fees_credit))
    kind = "Avoir" if credit_note else "Facture"
    return FecEntry(
        journal_code="VT",
        journal_lib="Ventes",
        date=day,
        piece_ref=invoice.reference,
        piece_date=day,
        label=f"{kind} {invoice.reference}",
        movements=movements,
    )


def insurer_payment_entry(payment: Payment) -> FecEntry:
    """An insurer's transfer: the bank is debited, the insurer's account credited."""
    day = payment.cash_day.day  # the day it was recorded, like every payment
    account = AMO if payment.payer == Payment.Payer.AMO else AMC
    reference = payment.statement_reference or f"R{payment.pk}"
    return FecEntry(
        journal_code="BQ",
        journal_lib="Banque",
        date=day,
        piece_ref=reference,
        piece_date=day,
        label=f"Virement {payment.insurer_name} {reference}"
        + (f" du {payment.paid_on:%d/%m/%Y}" if payment.paid_on else ""),
        movements=[
            (*BANK, "", "", payment.amount, ZERO),
            (*account, *_insurer(payment.insurer_code, payment.insurer_name), ZERO, payment.amount),
        ],
    )


def payment_entry(payment: Payment) -> FecEntry:
    if payment.payer in (Payment.Payer.AMO, Payment.Payer.AMC):
        return insurer_payment_entry(payment)
    day = payment.cash_day.day
    account = PAYMENT_ACCOUNTS[payment.method]
    cash = payment.method == "cash"
    reference = f"R{payment.pk}"
    return FecEntry(
        journal_code="CA" if cash else "BQ",
        journal_lib="Caisse" if cash else "Banque",
        date=day,
        piece_ref=reference,
        piece_date=day,
        label=f"Règlement {payment.get_method_display().lower()} {reference}",
        movements=[
            (*account, "", "", payment.amount, ZERO),
            (*PATIENTS, *_patient(payment.patient_id), ZERO, payment.amount),
        ],
    )


def entries_between(start: date, end: date) -> list[FecEntry]:
    """Every entry of the current practice between two dates (inclusive)."""
    # Dues invoices are the cooperative's sales, not the practice's: left out.
    invoices = Invoice.objects.filter(
        kind__in=[Invoice.Kind.INVOICE, Invoice.Kind.CREDIT_NOTE],
        status=Invoice.Status.ISSUED,
        issued_at__date__gte=start,
        issued_at__date__lte=end,
    ).order_by("issued_at", "pk")
    payments = (
        Payment.objects.filter(cash_day__day__gte=start, cash_day__day__lte=end)
        .select_related("cash_day")
        .order_by("cash_day__day", "received_at", "pk")
    )
    entries = [invoice_entry(invoice) for invoice in invoices if invoice.total > 0]
    entries += [payment_entry(payment) for payment in payments]
    return entries


def fec_text(start: date, end: date) -> str:
    return write_fec(number_entries(entries_between(start, end)))


CSV_COLUMNS = [
    "journal",
    "entry",
    "date",
    "account",
    "account_label",
    "auxiliary",
    "piece",
    "label",
    "debit",
    "credit",
]


def csv_text(start: date, end: date) -> str:
    """The same entries as a plain CSV (semicolon, comma decimals) for a spreadsheet.
    Text starting with = + - @ is prefixed with an apostrophe: it cannot run as a formula."""
    lines = number_entries(entries_between(start, end))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(
            [
                escape_text(line.journal_code),
                line.ecriture_num,
                line.ecriture_date.isoformat(),
                escape_text(line.compte_num),
                escape_text(line.compte_lib),
                escape_text(line.comp_aux_num),
                escape_text(line.piece_ref),
                escape_text(line.ecriture_lib),
                f"{line.debit:.2f}".replace(".", ","),
                f"{line.credit:.2f}".replace(".", ","),
            ]
        )
    return out.getvalue()
