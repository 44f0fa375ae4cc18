"""Amounts of money as their reader writes them: "1 234,50 €" in French (non-breaking
spaces: the amount never wraps away from its sign), "€1,234.50" in English. Django's
own number formats (django.utils.formats) do the digits; only where the sign goes is
decided here. Printed documents pass their language ("fr"): they are French whatever
the language of the screen."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import formats, translation

NBSP = "\u00a0"


def money_text(amount: Any, language: str | None = None) -> str:
    """The amount with two decimals and the euro sign; "" for no amount."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        digits = formats.number_format(
            abs(value), decimal_pos=2, use_l10n=True, force_grouping=True
        )
    sign = "-" if value < 0 else ""
    if language.split("-")[0] == "en":
        return f"{sign}€{digits}"
    return f"{sign}{digits}{NBSP}€"
