"""The French social-security number (NIR): 13 characters and a 2-digit key.

Layout: sex (1) | birth year (2) | birth month (2) | birth place (5: department + commune,
or 99 + country for people born abroad) | order (3) | key (2).
The key is 97 - (number mod 97); for Corsica (2A, 2B) the department is replaced by 19
and 18 before computing it. Sex digits 3, 4, 7 and 8 are temporary numbers; month codes
20-42 and 50-99 mean an unknown or special month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Nir:
    value: str  # 15 characters, no spaces

    @property
    def sex_digit(self) -> str:
        return self.value[0]

    @property
    def year(self) -> int:
        return int(self.value[1:3])

    @property
    def month(self) -> int:
        return int(self.value[3:5])


# What people type between the groups of digits, as printed on the carte Vitale
# ("1 85 05 78 006 084 36") or copied from a letter ("1.85.05.78.006.084.36").
SEPARATORS = str.maketrans("", "", ".-")


def normalise(raw: str) -> str:
    """The NIR without its separators (spaces, dots, hyphens), in capitals (2A, 2B)."""
    return "".join(raw.split()).translate(SEPARATORS).upper()


def key_for(first13: str) -> int:
    number = first13.replace("2A", "19").replace("2B", "18")
    return 97 - int(number) % 97


def parse(raw: str) -> Nir:
    value = normalise(raw)
    if len(value) != 15:
        raise ValidationError(
            _("A NIR has 15 characters (13 and a 2-digit key)."), code="nir_length"
        )
    body, key = value[:13], value[13:]
    department = body[5:7]
    digits_ok = body[:5].isdigit() and body[7:].isdigit() and key.isdigit()
    if not digits_ok or not (department.isdigit() or department in {"2A", "2B"}):
        raise ValidationError(
            _("A NIR contains only digits (and 2A/2B for Corsica)."), code="nir_chars"
        )
    if body[0] not in "12345678":
        raise ValidationError(_("The first digit of a NIR (sex) must be 1 to 8."), code="nir_sex")
    if key_for(body) != int(key):
        raise ValidationError(_("The NIR key does not match: check the number."), code="nir_key")
    return Nir(value)


def check_coherence(nir: Nir, *, sex: str, birth_date: date | None) -> None:
    """The NIR must agree with the patient's sex and birth date."""
    if sex in {"M", "F"}:
        expected = {"M": {"1", "3", "7"}, "F": {"2", "4", "8"}}[sex]
        if nir.sex_digit not in expected:
            raise ValidationError(
                _("The NIR does not match the patient's sex."), code="nir_sex_mismatch"
            )
    if birth_date is not None:
        if nir.year != birth_date.year % 100:
            raise ValidationError(
                _("The NIR does not match the year of birth."), code="nir_year_mismatch"
            )
        if 1 <= nir.month <= 12 and nir.month != birth_date.month:
            raise ValidationError(
                _("The NIR does not match the month of birth."), code="nir_month_mismatch"
            )


def make(sex_digit: str, birth: date, place: str, order: int) -> str:
    """Build a valid NIR (demo data and tests)."""
    body = f"{sex_digit}{birth.year % 100:02d}{birth.month:02d}{place}{order:03d}"
    return f"{body}{key_for(body):02d}"
