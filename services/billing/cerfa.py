"""The feuille de soins (cerfa n° 12541*02, "feuille de soins médecin") as positions on
the A4 page and the values printed there.

One table of positions serves both ways of printing: on plain paper the frame of the
form is drawn around the values; over the official pre-printed form only the values are
printed, each moved by the printer's correction (billing.models.PrinterOffset) so that
it falls in its box. Positions are millimetres from the top-left corner of the sheet,
measured on the layout Carnet draws; a practice printing over a form whose boxes sit
elsewhere corrects the difference with its printer's offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.models import Cover, Invoice, InvoiceLine, Pathway

# The acts table of the form has this many rows; an invoice with more lines prints the
# rest on the plain-paper sheet's last row as a sum (see care_sheet_values).
ACT_ROWS = 6


@dataclass(frozen=True)
class Spot:
    """Where a value is written: its top-left corner, its width (mm), its alignment."""

    x: float
    y: float
    width: float = 60
    align: str = "left"
    size: float = 9  # points


def _act_spots() -> dict[str, Spot]:
    spots: dict[str, Spot] = {}
    for row in range(ACT_ROWS):
        y = 162 + 6 * row
        spots[f"act_{row}_date"] = Spot(12, y, 24)
        spots[f"act_{row}_code"] = Spot(38, y, 22)
        spots[f"act_{row}_label"] = Spot(62, y, 74, size=8)
        spots[f"act_{row}_base"] = Spot(138, y, 20, "right")
        spots[f"act_{row}_excess"] = Spot(160, y, 18, "right")
        spots[f"act_{row}_total"] = Spot(180, y, 18, "right")
    return spots


# Each box of the form and where its value goes. "tick_*" spots are check boxes (an X).
SPOTS: dict[str, Spot] = {
    # the person receiving care
    "patient_name": Spot(12, 32, 112),
    "patient_birth_date": Spot(130, 32, 30),
    "patient_nir": Spot(12, 42, 70),
    "caisse": Spot(90, 42, 108),
    "tick_ald": Spot(12.6, 50.6, 3, "center"),
    "tick_c2s": Spot(72.6, 50.6, 3, "center"),
    "tick_ame": Spot(104.6, 50.6, 3, "center"),
    "rights_until": Spot(160, 51, 38),
    "patient_address": Spot(12, 58, 186),
    # the insured, when the patient is not (an ayant droit)
    "insured_name": Spot(12, 72, 112),
    "insured_nir": Spot(130, 72, 68),
    # the coordinated care pathway
    "tick_treating": Spot(12.6, 88.6, 3, "center"),
    "tick_new_treating": Spot(72.6, 88.6, 3, "center"),
    "tick_referred": Spot(132.6, 88.6, 3, "center"),
    "tick_direct": Spot(12.6, 94.6, 3, "center"),
    "tick_emergency": Spot(72.6, 94.6, 3, "center"),
    "tick_away": Spot(132.6, 94.6, 3, "center"),
    "tick_under_16": Spot(12.6, 100.6, 3, "center"),
    "tick_outside": Spot(72.6, 100.6, 3, "center"),
    "treating_doctor": Spot(132, 106, 66),
    "outside_note": Spot(12, 106, 118, size=7),
    # the practitioner
    "doctor_name": Spot(12, 124, 90),
    "doctor_am": Spot(112, 124, 40),
    "doctor_rpps": Spot(158, 124, 40),
    "doctor_address": Spot(12, 131, 150, size=8),
    "doctor_sector": Spot(168, 131, 30),
    # the prescriber, for a prescribed act
    "prescriber_name": Spot(12, 146, 90),
    "prescriber_am": Spot(112, 146, 40),
    "prescription_date": Spot(158, 146, 40),
    # the acts
    **_act_spots(),
    "total": Spot(170, 200, 28, "right", size=10),
    # payment: tiers payant and the complementary insurer
    "tick_amo_not_paid": Spot(12.6, 212.6, 3, "center"),
    "tick_amc_not_paid": Spot(12.6, 218.6, 3, "center"),
    "paid_by_patient": Spot(170, 212, 28, "right"),
    "amc_name": Spot(100, 226, 60),
    "amc_number": Spot(166, 226, 32),
    "amc_member": Spot(100, 232, 98),
    # signatures
    "invoice_reference": Spot(12, 252, 90, size=8),
    "signed_on": Spot(12, 258, 90, size=8),
}


@dataclass(frozen=True)
class Placed:
    """A value at its place on the sheet, the printer's correction applied (mm)."""

    name: str
    text: str
    x: float
    y: float
    width: float
    align: str
    size: float


def place(values: dict[str, str], x_mm: Decimal, y_mm: Decimal) -> list[Placed]:
    """Every non-empty value at its spot, moved by the printer's correction."""
    dx, dy = float(x_mm), float(y_mm)
    return [
        Placed(name, text, spot.x + dx, spot.y + dy, spot.width, spot.align, spot.size)
        for name, spot in SPOTS.items()
        if (text := values.get(name, ""))
    ]


def _euros(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _tick(on: bool) -> str:
    return "X" if on else ""


def _address(*parts: str) -> str:
    return " ".join(" ".join(part.split()) for part in parts if part)


def care_sheet_values(
    *, practice: Any, invoice: Invoice, patient: Any, cover: Cover | None
) -> dict[str, str]:
    """What the feuille de soins says, box by box (text as printed, in French)."""
    person = invoice.issuer.person
    pathway = invoice.pathway
    values = {
        "patient_name": patient.display_name,
        "patient_birth_date": patient.birth_date.strftime("%d/%m/%Y"),
        "patient_nir": patient.nir,
        "patient_address": _address(patient.address, patient.postal_code, patient.city),
        # care related to the long-term condition: the invoice says so, not the cover
        # (a patient in ALD is also treated for other things)
        "tick_ald": _tick(invoice.long_term_condition),
        "doctor_name": invoice.issuer.name,
        "doctor_am": getattr(person, "am_number", "") or "",
        "doctor_rpps": getattr(person, "rpps", "") or "",
        "doctor_address": _address(
            practice.name + ",", practice.address, practice.postal_code, practice.city
        ),
        "doctor_sector": f"secteur {invoice.issuer.sector or '1'}",
        "total": _euros(invoice.total),
        "tick_amo_not_paid": _tick(invoice.third_party_amo),
        "tick_amc_not_paid": _tick(invoice.third_party_amc),
        "paid_by_patient": _euros(invoice.due_at_desk),
        "invoice_reference": f"Facture n° {invoice.reference}",
        "signed_on": f"le {invoice.service_date:%d/%m/%Y}",
    }
    for choice in Pathway:
        if choice.value:
            values[f"tick_{choice.value}"] = _tick(pathway == choice.value)
    if pathway == Pathway.OUTSIDE:
        values["outside_note"] = (
            "Hors parcours de soins : remboursement de l'assurance maladie à 30 % au lieu de 70 %."
        )
    gp = getattr(patient, "gp", None)
    if pathway in (Pathway.REFERRED, Pathway.TREATING, Pathway.NEW_TREATING) and gp:
        values["treating_doctor"] = gp.full_name
    if cover is not None:
        values["caisse"] = f"{cover.caisse_code} {cover.caisse_name}"
        values["tick_c2s"] = _tick(cover.c2s)
        values["tick_ame"] = _tick(cover.ame)
        if cover.rights_until:
            values["rights_until"] = cover.rights_until.strftime("%d/%m/%Y")
        values["amc_name"] = cover.amc_name or (
            "Complémentaire santé solidaire" if cover.c2s else ""
        )
        values["amc_number"] = cover.amc_number
        if cover.amc_member_number:
            values["amc_member"] = f"adhérent {cover.amc_member_number}" + (
                f" — {cover.amc_contract}" if cover.amc_contract else ""
            )
    values.update(_act_values(invoice, list(invoice.lines.all())))
    return values


def _act_values(invoice: Invoice, lines: list[InvoiceLine]) -> dict[str, str]:
    values: dict[str, str] = {}
    shown = lines[:ACT_ROWS]
    rest = lines[ACT_ROWS - 1 :] if len(lines) > ACT_ROWS else []
    if rest:  # the last row sums what does not fit, so the total still adds up
        shown = lines[: ACT_ROWS - 1]
    for row, line in enumerate(shown):
        code = line.coded + (f" x {line.quantity}" if line.quantity > 1 else "")
        values[f"act_{row}_date"] = invoice.service_date.strftime("%d/%m/%Y")
        values[f"act_{row}_code"] = code
        values[f"act_{row}_label"] = line.label[:48]
        values[f"act_{row}_base"] = _euros(line.base_amount)
        values[f"act_{row}_excess"] = (
            _euros(line.excess_amount) + (" DE" if line.code == "DE" else "")
            if line.excess_amount
            else ""
        )
        values[f"act_{row}_total"] = _euros(line.charged_amount)
    if rest:
        row = ACT_ROWS - 1
        values[f"act_{row}_date"] = invoice.service_date.strftime("%d/%m/%Y")
        values[f"act_{row}_code"] = " ".join(line.coded for line in rest)[:20]
        values[f"act_{row}_label"] = f"{len(rest)} autres actes"
        values[f"act_{row}_base"] = _euros(sum((x.base_amount for x in rest), Decimal("0")))
        values[f"act_{row}_excess"] = _euros(sum((x.excess_amount for x in rest), Decimal("0")))
        values[f"act_{row}_total"] = _euros(sum((x.charged_amount for x in rest), Decimal("0")))
    return values


# The test print: crosses at these points (mm from the sheet's top-left corner), far
# apart so that a skew shows too; the admin measures where they land.
TEST_MARKS = ((20.0, 20.0), (190.0, 20.0), (20.0, 277.0), (190.0, 277.0))


def sample_values() -> dict[str, str]:
    """Values for the test print: a sample in every box, so that printed over a form
    each one shows whether it falls inside its box."""
    values = {name: ("X" if name.startswith("tick_") else "") for name in SPOTS}
    values.update(
        {
            "patient_name": "EXEMPLE Marie",
            "patient_birth_date": "01/02/1980",
            "patient_nir": "2 80 02 75 123 456 78",
            "caisse": "751 CPAM de Paris",
            "rights_until": "31/12/2030",
            "patient_address": "1 rue de l'Exemple 75001 Paris",
            "insured_name": "EXEMPLE Jean",
            "insured_nir": "1 78 03 75 123 456 12",
            "treating_doctor": "Dr EXEMPLE",
            "outside_note": "Note d'exemple",
            "doctor_name": "Dr EXEMPLE Marie",
            "doctor_am": "751234567",
            "doctor_rpps": "10000000000",
            "doctor_address": "Cabinet d'exemple, 1 place de l'Exemple 75001 Paris",
            "doctor_sector": "secteur 1",
            "prescriber_name": "Dr PRESCRIPTEUR",
            "prescriber_am": "751234568",
            "prescription_date": "01/01/2030",
            "total": "30,00",
            "paid_by_patient": "0,00",
            "amc_name": "Mutuelle d'exemple",
            "amc_number": "12345678",
            "amc_member": "adhérent 000000",
            "invoice_reference": "Facture n° EXEMPLE-1",
            "signed_on": "le 01/01/2030",
        }
    )
    for row in range(ACT_ROWS):
        values.update(
            {
                f"act_{row}_date": "01/01/2030",
                f"act_{row}_code": "G",
                f"act_{row}_label": "Consultation",
                f"act_{row}_base": "30,00",
                f"act_{row}_excess": "0,00",
                f"act_{row}_total": "30,00",
            }
        )
    return values
