"""Acts suggested for a consultation: its kind, the patient's age, the issuer's sector."""

from __future__ import annotations

from datetime import date

from billing.models import Issuer


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
