"""Identifiers of French and Belgian health professionals."""

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


def validate_inami(value: str) -> None:
    """The Belgian INAMI (RIZIV) number of a practitioner: 11 digits, the profession
    first (1 a doctor, 4 a nurse or midwife, 5 a physiotherapist), then the personal
    number, two check digits and the three digits of the qualification (e.g. 003). The
    check digits are not verified: the INAMI computes them by two schemes (modulo 97,
    and modulo 89 for numbers issued since 2013), and refusing a real number would stop
    the practitioner billing."""
    if not (len(value) == 11 and value.isdigit() and value[0] != "0"):
        raise ValidationError(
            _("An INAMI number has 11 digits (e.g. 1-23456-78-003)."), code="invalid_inami"
        )
