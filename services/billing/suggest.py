"""Acts suggested for a consultation: its kind, the patient's age, the issuer's sector."""

from __future__ import annotations

from datetime import date

from billing.models import Issuer, Pathway


def suggested_codes(*, kind: str, birth_date: date, service_date: date, sector: str) -> list[str]:
    age = (
        service_date.year
        - birth_date.year
        - ((service_date.month, service_date.day) < (birth_date.month, birth_date.day))
    )
    if kind == "home":
        codes = ["VG", "MD"]
    elif kind == "video":
        codes = ["TCG"]
    elif kind == "office":
        codes = ["C" if sector == Issuer.Sector.SECTOR_2 else "G"]
    else:
        return []  # a phone call is not billed as a consultation
    if age < 6 and codes[0] in ("G", "VG", "TCG"):
        codes.append("MEG")
    return codes


def suggested_pathway(
    *, birth_date: date | None, gp_id: int | None, issuer_id: object, day: date
) -> str:
    """What the desk most likely ticks: under 16 the pathway does not apply; the
    declared médecin traitant billing is in the pathway; otherwise the desk asks the
    patient (referred, emergency, away from home, or outside the pathway)."""
    if birth_date is not None:
        age = (
            day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
        )
        if age < 16:
            return Pathway.UNDER_16
    if gp_id is not None and gp_id == issuer_id:
        return Pathway.TREATING
    return Pathway.NOT_STATED
