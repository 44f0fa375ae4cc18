from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from records import nir


def test_a_valid_nir_parses() -> None:
    # 1 85 05 78 006 084 key 91: the example used by the French administration.
    assert nir.parse("1 85 05 78 006 084 91").value == "185057800608491"


def test_a_wrong_key_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        nir.parse("185057800608492")
    assert error.value.code == "nir_key"


@pytest.mark.parametrize("raw", ["", "12345", "1850578006084911", "18505780060849A"])
def test_a_malformed_nir_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        nir.parse(raw)


def test_corsican_departments_use_19_and_18_for_the_key() -> None:
    number = nir.make("2", date(1990, 3, 1), "2A004", 12)
    assert number[5:7] == "2A"
    assert nir.parse(number)
    assert nir.key_for(number[:13]) == 97 - int(number[:13].replace("2A", "19")) % 97


def test_it_must_agree_with_sex_and_birth_date() -> None:
    parsed = nir.parse(nir.make("1", date(1985, 5, 1), "78006", 84))
    nir.check_coherence(parsed, sex="M", birth_date=date(1985, 5, 20))
    cases = [
        ("F", date(1985, 5, 20), "nir_sex_mismatch"),
        ("M", date(1986, 5, 20), "nir_year_mismatch"),
        ("M", date(1985, 6, 20), "nir_month_mismatch"),
    ]
    for sex, birth_date, code in cases:
        with pytest.raises(ValidationError) as error:
            nir.check_coherence(parsed, sex=sex, birth_date=birth_date)
        assert error.value.code == code
