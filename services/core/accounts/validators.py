"""Identifiers of French health professionals."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_rpps(value: str) -> None:
    """RPPS: 11 digits whose last is a Luhn check digit."""
    if not (len(value) == 11 and value.isdigit() and luhn_ok(value)):
        raise ValidationError(
            _("An RPPS number has 11 digits with a valid check digit."), code="invalid_rpps"
        )


def validate_am_number(value: str) -> None:
    """The Assurance Maladie identifier of a practitioner (numéro AM, the one printed on
    prescriptions and care sheets): 9 digits, the département of practice first and a
    Luhn check digit last, like the ADELI number it comes from."""
    if not (len(value) == 9 and value.isdigit() and luhn_ok(value)):
        raise ValidationError(
            _("An Assurance Maladie number has 9 digits with a valid check digit."),
            code="invalid_am_number",
        )
