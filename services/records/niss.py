"""The Belgian national number (NISS / INSZ, numéro de registre national): 11 digits,
the birth date (YYMMDD), a counter (odd for men, even for women) and a 2-digit check
number (97 - the first nine digits mod 97; for people born from 2000 on, a 2 is put in
front of those nine digits). Checked with python-stdnum (``stdnum.be.nn``).

A Belgian practice records the NISS where a French one records the NIR (both are kept
in ``Patient.nir``, the patient's national health identifier); each refuses the other's.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.be import nn
from stdnum.exceptions import ValidationError as StdnumError

from records import nir as nir_rules


def normalise(raw: str) -> str:
    """The NISS without separators ("85.07.30-033.28" -> "85073003328")."""
    return nir_rules.normalise(raw)


def is_valid(raw: str) -> bool:
    return nn.is_valid(normalise(raw))


def looks_like_nir(raw: str) -> bool:
    """A French NIR: 15 characters with a valid key."""
    try:
        nir_rules.parse(raw)
    except ValidationError:
        return False
    return True


def validate(raw: str) -> str:
    """The compact NISS, or a ValidationError saying what is wrong."""
    value = normalise(raw)
    if looks_like_nir(value):
        raise ValidationError(
            _(
                "This is a French social-security number (NIR): a Belgian practice records"
                " the national number (NISS, 11 digits)."
            ),
            code="nir_not_niss",
        )
    try:
        return str(nn.validate(value))
    except StdnumError as error:
        raise ValidationError(
            _(
                "This national number (NISS) is not valid: it has 11 digits, the last two"
                " being a check number."
            ),
            code="niss_invalid",
        ) from error


def refuse_in_france(raw: str) -> None:
    """A French practice records the NIR: a Belgian NISS is refused by name."""
    if len(normalise(raw)) == 11 and is_valid(raw):
        raise ValidationError(
            _(
                "This is a Belgian national number (NISS): a French practice records the"
                " NIR (15 characters)."
            ),
            code="niss_not_nir",
        )
