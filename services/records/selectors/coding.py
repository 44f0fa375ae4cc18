"""Reads of the coding lists: what other services may ask of them."""

from __future__ import annotations

from records.models import Cim10Code


def cim10_code(text: str) -> str | None:
    """The CIM-10 code as the shipped list writes it ("E11.9" -> "E119"), or None when
    the list does not have it. Reference data: no patient, no audit."""
    code = Cim10Code.normalise(text or "")
    if code is None or not Cim10Code.objects.filter(code=code).exists():
        return None
    return code
