"""Claim channels: how an invoice reaches the insurer.

The paper channel is implemented: the care sheet (cerfa n° 12541) printed for the
patient. The electronic channel (FSE through SESAM-Vitale) needs certified hardware and
an approved software component; it will plug in behind the same interface.
"""

from __future__ import annotations

from typing import Protocol

from billing.models import Invoice


class ClaimChannel(Protocol):
    name: str

    def submit(self, invoice: Invoice) -> str:
        """Send the claim; return a reference (or the document to hand to the patient)."""
        ...


class PaperCareSheet:
    """The patient sends the printed care sheet to their insurer themselves."""

    name = "paper"

    def submit(self, invoice: Invoice) -> str:
        return f"feuille-de-soins-{invoice.reference}.pdf"


class SesamVitaleFse:  # pragma: no cover - interface for a certified component
    """Electronic care sheet (FSE) through SESAM-Vitale: to be provided by an approved
    component talking to the card reader; not available in Carnet yet."""

    name = "fse"

    def submit(self, invoice: Invoice) -> str:
        raise NotImplementedError("SESAM-Vitale needs a certified component")


CHANNELS: dict[str, ClaimChannel] = {"paper": PaperCareSheet()}
