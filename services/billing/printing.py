"""Billing on paper: the care sheet (feuille de soins, cerfa n° 12541 layout), the
receipt, the cheque deposit slip and the day's closing report."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from billing.models import Invoice
from billing.selectors import DepositGroup, Journal, cover_on
from core.documents.pdf import render_pdf
from core.practices.models import Practice


def care_sheet(*, practice: Practice, invoice: Invoice, patient: Any) -> bytes:
    """The paper claim a patient sends to the insurer (paper claim channel): the French
    cerfa, or in a Belgian practice the attestation de soins donnés."""
    if practice.country.upper() == "BE":
        return attestation_be(practice=practice, invoice=invoice, patient=patient)
    return render_pdf(
        "billing/pdf/care_sheet.html",
        {
            "practice": practice,
            "invoice": invoice,
            "patient": patient,
            "lines": list(invoice.lines.all()),
            "issuer": invoice.issuer,
            "prescriber": invoice.issuer.person,
            # the cover in force on the date of care, as recorded from the attestation
            "cover": cover_on(invoice.patient_id, invoice.service_date)
            if invoice.patient_id
            else None,
        },
    )


def attestation_be(*, practice: Practice, invoice: Invoice, patient: Any) -> bytes:
    """The Belgian paper attestation (attestation de soins donnés / getuigschrift voor
    verstrekte hulp), printed in French and Dutch: the practitioner's INAMI number and
    the patient's mutualité (the cover recorded from their card: its code and name) when
    Carnet knows them; otherwise the attestation says so and leaves the field to be
    written by hand."""
    person = invoice.issuer.person
    return render_pdf(
        "billing/pdf/attestation_be.html",
        {
            "practice": practice,
            "invoice": invoice,
            "patient": patient,
            "lines": list(invoice.lines.all()),
            "issuer": invoice.issuer,
            "inami": person.inami if person is not None else "",
            "cover": cover_on(invoice.patient_id, invoice.service_date)
            if invoice.patient_id
            else None,
        },
    )


def receipt(*, practice: Practice, invoice: Invoice, patient: Any) -> bytes:
    # The patient's own payments: an insurer's transfer (tiers payant) is not theirs.
    payments = list(
        invoice.allocations.select_related("payment")
        .exclude(payment__payer__in=("amo", "amc"))
        .order_by("payment__received_at")
    )
    return render_pdf(
        "billing/pdf/receipt.html",
        {
            "practice": practice,
            "invoice": invoice,
            "patient": patient,
            "allocations": payments,
            "lines": list(invoice.lines.all()),
            "printed_at": timezone.now(),
        },
    )


def deposit_slip(*, practice: Practice, journal: Journal, groups: list[DepositGroup]) -> bytes:
    """One page per payee: their cheques and the account they are paid into."""
    return render_pdf(
        "billing/pdf/deposit_slip.html",
        {"practice": practice, "journal": journal, "groups": groups},
    )


def closing_report(*, practice: Practice, journal: Journal) -> bytes:
    return render_pdf(
        "billing/pdf/closing_report.html",
        {"practice": practice, "journal": journal, "printed_at": timezone.now()},
    )
