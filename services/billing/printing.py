"""Billing on paper: the care sheet (feuille de soins, cerfa n° 12541*02), the
receipt, the cheque deposit slip and the day's closing report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing import cerfa
from billing.models import Invoice, PrinterOffset
from billing.selectors import DepositGroup, Journal, cover_on
from core.documents.pdf import render_pdf
from core.practices.models import Practice


def care_sheet(
    *,
    practice: Practice,
    invoice: Invoice,
    patient: Any,
    preprinted: bool = False,
    offset: PrinterOffset | None = None,
) -> bytes:
    """The paper claim a patient sends to the insurer (paper claim channel): the French
    cerfa, or in a Belgian practice the attestation de soins donnés. On plain paper the
    whole form is drawn; over the pre-printed form only the values are printed, moved by
    the printer's correction."""
    if practice.country.upper() == "BE":
        return attestation_be(practice=practice, invoice=invoice, patient=patient)
    # the cover in force on the date of care, as recorded from the attestation
    cover = cover_on(invoice.patient_id, invoice.service_date) if invoice.patient_id else None
    values = cerfa.care_sheet_values(
        practice=practice, invoice=invoice, patient=patient, cover=cover
    )
    x_mm, y_mm = _correction(offset) if preprinted else (Decimal("0"), Decimal("0"))
    return render_pdf(
        "billing/pdf/care_sheet.html",
        {"invoice": invoice, "frame": not preprinted, **_sheet(values, x_mm, y_mm)},
    )


def care_sheet_test(*, offset: PrinterOffset | None) -> bytes:
    """The calibration page: a millimetre grid, crosses at known points and a sample in
    every box, all moved by the printer's current correction."""
    x_mm, y_mm = _correction(offset)
    # each cross: its centre (moved by the correction) and the point it stands for
    marks = [
        {
            "x": cx,
            "y": cy,
            "left": cx - 5,
            "top": cy - 5,
            "label": cx + 1 if x < 100 else cx - 19,  # inside the sheet
            "at_x": x,
            "at_y": y,
        }
        for x, y in cerfa.TEST_MARKS
        for cx, cy in [(x + float(x_mm), y + float(y_mm))]
    ]
    return render_pdf(
        "billing/pdf/care_sheet_test.html",
        {
            "offset": offset,
            "x_mm": x_mm,
            "y_mm": y_mm,
            "marks": marks,
            "columns": range(10, 210, 10),
            "rows": range(10, 297, 10),
            **_sheet(cerfa.sample_values(), x_mm, y_mm),
        },
    )


def _correction(offset: PrinterOffset | None) -> tuple[Decimal, Decimal]:
    if offset is None:
        return Decimal("0"), Decimal("0")
    return offset.x_mm, offset.y_mm


def _sheet(values: dict[str, str], x_mm: Decimal, y_mm: Decimal) -> dict[str, Any]:
    return {
        "placed": cerfa.place(values, x_mm, y_mm),
        # the check boxes drawn on plain paper, just around where the X is written
        "boxes": [
            (spot.x - 0.4, spot.y - 0.4)
            for name, spot in cerfa.SPOTS.items()
            if name.startswith("tick_")
        ],
        "act_rules": [161 + 6 * row for row in range(cerfa.ACT_ROWS + 1)],
    }


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
