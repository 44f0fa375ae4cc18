"""An invoice's paper, printed and recorded once for the page and the API alike: the
feuille de soins and the receipt name the patient, so each print is in the patient's
access report."""

from __future__ import annotations

from typing import Any

from billing import printing
from billing.models import Invoice, PrinterOffset
from core.access.policy import Actor
from core.audit.services import record_event
from core.practices.models import Practice

# document -> (how it is made, the event recorded, the file's name before the reference)
_DOCUMENTS = {
    "care_sheet": (printing.care_sheet, "care_sheet.print", "feuille-de-soins"),
    "receipt": (printing.receipt, "receipt.print", "recu"),
}


def invoice_paper_print(
    *,
    actor: Actor,
    practice: Practice,
    invoice: Invoice,
    patient: Any,
    document: str,
    preprinted: bool = False,
    offset: PrinterOffset | None = None,
) -> tuple[bytes, str]:
    """The PDF and its file name; the print is audited. A care sheet is drawn whole on
    plain paper, or only its values over the pre-printed form (``preprinted``), moved by
    the printer's correction (``offset``)."""
    make, event, name = _DOCUMENTS[document]
    if document == "care_sheet" and practice.country.upper() == "BE":
        name = "attestation-de-soins"
    if document == "care_sheet":
        pdf = printing.care_sheet(
            practice=practice,
            invoice=invoice,
            patient=patient,
            preprinted=preprinted,
            offset=offset,
        )
    else:
        pdf = make(practice=practice, invoice=invoice, patient=patient)
    record_event(
        event,
        actor=actor,
        patient_id=invoice.patient_id,
        category="administrative",
        purpose="billing",
        target=f"invoice:{invoice.reference}",
    )
    return pdf, f"{name}-{invoice.reference}.pdf"
