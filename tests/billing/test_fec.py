"""The FEC export: a small realistic month validates, and each rule of the validator can fail.

Pure unit tests: no database, nothing imported from Django, so they also run with
``-p no:django``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.fec import (
    COLUMNS,
    FecEntry,
    Movement,
    fec_filename,
    number_entries,
    totals,
    validate_fec,
    write_fec,
)

ZERO = Decimal("0.00")
PATIENT = ("P000123", "Patient P000123")  # a patient number, never a name: medical secrecy
OTHER_PATIENT = ("P000124", "Patient P000124")


def debit(account: tuple[str, str], amount: str, aux: tuple[str, str] = ("", "")) -> Movement:
    return (account[0], account[1], aux[0], aux[1], Decimal(amount), ZERO)


def credit(account: tuple[str, str], amount: str, aux: tuple[str, str] = ("", "")) -> Movement:
    return (account[0], account[1], aux[0], aux[1], ZERO, Decimal(amount))


PATIENTS = ("411", "Patients")
FEES = ("706", "Honoraires")
CHEQUES = ("5112", "Chèques à encaisser")
CASH = ("531", "Caisse")
BANK = ("512", "Banque")


def small_month() -> list[FecEntry]:
    """January 2025 at a GP practice, given in the order the events were keyed in.

    Patient P000123 is billed a G consultation (30,00 €), pays 20,00 € by cheque the same
    day and the 10,00 € left in cash two days later; the cheque is deposited on the 10th.
    Patient P000124 is billed by mistake on the 13th and the invoice is cancelled by a
    credit note on the 14th. The deposit is keyed in last although it is dated earlier.
    """
    return [
        FecEntry(
            journal_code="VT",
            journal_lib="Ventes",
            date=date(2025, 1, 6),
            piece_ref="F2025-0001",
            piece_date=date(2025, 1, 6),
            label="Facture F2025-0001 consultation G",
            movements=[debit(PATIENTS, "30.00", PATIENT), credit(FEES, "30.00")],
        ),
        FecEntry(
            journal_code="EN",
            journal_lib="Encaissements",
            date=date(2025, 1, 6),
            piece_ref="R2025-0001",
            piece_date=date(2025, 1, 6),
            label="Règlement chèque F2025-0001",
            movements=[debit(CHEQUES, "20.00"), credit(PATIENTS, "20.00", PATIENT)],
        ),
        FecEntry(
            journal_code="EN",
            journal_lib="Encaissements",
            date=date(2025, 1, 8),
            piece_ref="R2025-0002",
            piece_date=date(2025, 1, 8),
            label="Règlement espèces F2025-0001",
            movements=[debit(CASH, "10.00"), credit(PATIENTS, "10.00", PATIENT)],
        ),
        FecEntry(
            journal_code="VT",
            journal_lib="Ventes",
            date=date(2025, 1, 13),
            piece_ref="F2025-0002",
            piece_date=date(2025, 1, 13),
            label="Facture F2025-0002 consultation G",
            movements=[debit(PATIENTS, "30.00", OTHER_PATIENT), credit(FEES, "30.00")],
        ),
        FecEntry(
            journal_code="VT",
            journal_lib="Ventes",
            date=date(2025, 1, 14),
            piece_ref="A2025-0001",
            piece_date=date(2025, 1, 14),
            label="Avoir A2025-0001 annule F2025-0002",
            movements=[debit(FEES, "30.00"), credit(PATIENTS, "30.00", OTHER_PATIENT)],
        ),
        FecEntry(
            journal_code="BQ",
            journal_lib="Banque",
            date=date(2025, 1, 10),
            piece_ref="RC2025-0001",
            piece_date=date(2025, 1, 10),
            label="Remise de chèques n° 1",
            movements=[debit(BANK, "20.00"), credit(CHEQUES, "20.00")],
        ),
    ]


def small_month_file() -> str:
    return write_fec(number_entries(small_month()))


def rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.split("\r\n") if line]


def set_field(text: str, line_number: int, column: str, value: str) -> str:
    """The file with one field changed; line 1 is the header."""
    lines = text.split("\r\n")
    values = lines[line_number - 1].split("\t")
    values[COLUMNS.index(column)] = value
    lines[line_number - 1] = "\t".join(values)
    return "\r\n".join(lines)


def assert_caught(text: str, fragment: str) -> list[str]:
    problems = validate_fec(text)
    assert any(fragment in problem for problem in problems), problems
    return problems


# ----------------------------------------------------------------------- a valid month


def test_a_small_month_produces_a_file_the_validator_accepts() -> None:
    assert validate_fec(small_month_file()) == []


def test_the_totals_of_a_small_month_balance() -> None:
    by_account = totals(small_month_file())

    assert by_account == {
        "411": (Decimal("60.00"), Decimal("60.00")),
        "512": (Decimal("20.00"), ZERO),
        "5112": (Decimal("20.00"), Decimal("20.00")),
        "531": (Decimal("10.00"), ZERO),
        "706": (Decimal("30.00"), Decimal("60.00")),
    }
    total_debit = sum((d for d, _ in by_account.values()), ZERO)
    total_credit = sum((c for _, c in by_account.values()), ZERO)
    assert total_debit == total_credit == Decimal("140.00")


def test_entries_are_numbered_per_journal_in_date_order() -> None:
    lines = number_entries(small_month())

    numbered = list(dict.fromkeys((line.ecriture_num, line.piece_ref) for line in lines))
    assert numbered == [
        ("VT000001", "F2025-0001"),
        ("EN000001", "R2025-0001"),
        ("EN000002", "R2025-0002"),
        ("BQ000001", "RC2025-0001"),  # keyed in last, dated the 10th
        ("VT000002", "F2025-0002"),
        ("VT000003", "A2025-0001"),
    ]
    assert all(line.valid_date == line.ecriture_date for line in lines)


def test_the_file_is_tab_separated_with_crlf_dates_and_french_amounts() -> None:
    text = small_month_file()

    assert text.startswith("\t".join(COLUMNS) + "\r\n")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    first = dict(zip(COLUMNS, rows(text)[1], strict=True))
    assert first == {
        "JournalCode": "VT",
        "JournalLib": "Ventes",
        "EcritureNum": "VT000001",
        "EcritureDate": "20250106",
        "CompteNum": "411",
        "CompteLib": "Patients",
        "CompAuxNum": "P000123",
        "CompAuxLib": "Patient P000123",
        "PieceRef": "F2025-0001",
        "PieceDate": "20250106",
        "EcritureLib": "Facture F2025-0001 consultation G",
        "Debit": "30,00",
        "Credit": "0,00",
        "EcritureLet": "",
        "DateLet": "",
        "ValidDate": "20250106",
        "Montantdevise": "",
        "Idevise": "",
    }


def test_large_amounts_have_no_thousands_separator_and_currency_fields_are_written() -> None:
    line = replace(
        number_entries(small_month())[0],
        debit=Decimal("1234567.5"),
        montantdevise=Decimal("12"),
        idevise="CHF",
        ecriture_let="AA",
        date_let=date(2025, 1, 8),
    )

    fields = dict(zip(COLUMNS, rows(write_fec([line]))[1], strict=True))

    assert fields["Debit"] == "1234567,50"
    assert (fields["Montantdevise"], fields["Idevise"]) == ("12,00", "CHF")
    assert (fields["EcritureLet"], fields["DateLet"]) == ("AA", "20250108")


def test_the_file_name_is_siren_fec_and_closing_date() -> None:
    assert fec_filename("123456789", date(2025, 12, 31)) == "123456789FEC20251231.txt"
    assert fec_filename("123 456 789", date(2025, 12, 31)) == "123456789FEC20251231.txt"


@pytest.mark.parametrize("siren", ["12345678", "1234567890", "../../etc", "12345678A"])
def test_the_file_name_refuses_a_malformed_siren(siren: str) -> None:
    with pytest.raises(ValueError, match="SIREN"):
        fec_filename(siren, date(2025, 12, 31))


# ------------------------------------------------------- each rule of the validator fails


def test_an_unbalanced_entry_is_caught() -> None:
    text = set_field(small_month_file(), 3, "Credit", "25,00")

    assert_caught(text, "entry VT000001 (line 2): not balanced, debits 30,00 != credits 25,00")


@pytest.mark.parametrize(
    "header",
    [
        "\t".join(COLUMNS[:-1]),  # a column missing
        "\t".join(COLUMNS).replace("Debit\tCredit", "Credit\tDebit"),  # two swapped
        ";".join(COLUMNS),  # another separator
        "\t".join(COLUMNS).lower(),
    ],
)
def test_a_wrong_header_is_caught(header: str) -> None:
    text = small_month_file().replace("\t".join(COLUMNS), header, 1)

    assert_caught(text, "line 1: the header must be the 18 official columns")


@pytest.mark.parametrize("value", ["20250230", "2025-01-06", "6/1/2025", "2025016", ""])
def test_a_bad_date_is_caught(value: str) -> None:
    text = set_field(small_month_file(), 2, "EcritureDate", value)

    problems = validate_fec(text)

    assert any(p.startswith("line 2: EcritureDate") for p in problems), problems


def test_a_bad_lettering_date_is_caught() -> None:
    text = set_field(small_month_file(), 2, "DateLet", "20251301")

    assert_caught(text, "line 2: DateLet '20251301' is not a valid date YYYYMMDD")


def test_a_gap_in_numbering_is_caught() -> None:
    """Deleting an entry (VT000002, lines 10-11) leaves a hole in the journal's sequence."""
    lines = small_month_file().split("\r\n")
    assert lines[9].split("\t")[2] == lines[10].split("\t")[2] == "VT000002"
    text = "\r\n".join(lines[:9] + lines[11:])

    assert_caught(text, "line 10: EcritureNum VT000003 breaks the sequence of journal VT")


def test_a_numbering_that_does_not_start_at_one_is_caught() -> None:
    text = set_field(small_month_file(), 8, "EcritureNum", "BQ000002")
    text = set_field(text, 9, "EcritureNum", "BQ000002")

    assert_caught(text, "expected BQ000001")


def test_a_number_that_does_not_belong_to_its_journal_is_caught() -> None:
    text = set_field(small_month_file(), 8, "EcritureNum", "VT000099")
    text = set_field(text, 9, "EcritureNum", "VT000099")

    assert_caught(text, "is not the journal code 'BQ' followed by a sequence number")


def test_entries_going_back_in_time_within_a_journal_are_caught() -> None:
    text = small_month_file()
    for line_number in (10, 11):  # VT000002, dated 13 Jan, moved to 2 Jan
        text = set_field(text, line_number, "EcritureDate", "20250102")
        text = set_field(text, line_number, "ValidDate", "20250102")

    assert_caught(text, "line 10: entry VT000002 is dated before entry VT000001")


def test_the_lines_of_an_entry_must_be_contiguous() -> None:
    lines = small_month_file().split("\r\n")
    lines[2], lines[3] = lines[3], lines[2]  # VT000001 line 2 after an EN000001 line

    assert_caught("\r\n".join(lines), "the lines of entry VT000001 are not contiguous")


@pytest.mark.parametrize(
    "column",
    ["JournalCode", "JournalLib", "CompteNum", "CompteLib", "PieceRef", "EcritureLib"],
)
def test_a_missing_required_field_is_caught(column: str) -> None:
    text = set_field(small_month_file(), 3, column, "")

    assert_caught(text, f"line 3: {column} is required")


def test_a_missing_compte_lib_is_caught() -> None:
    text = set_field(small_month_file(), 3, "CompteLib", "  ")

    assert validate_fec(text) == ["line 3: CompteLib is required"]


@pytest.mark.parametrize(
    "label", ['=HYPERLINK("http://evil.example","clic")', "+33 6", "-1", "@SUM(A1)", " =1+1"]
)
def test_a_formula_injection_field_is_caught(label: str) -> None:
    text = set_field(small_month_file(), 2, "EcritureLib", label)

    assert validate_fec(text) == [
        f"line 2: EcritureLib {label!r} starts like a spreadsheet formula "
        "and is not escaped with an apostrophe"
    ]


def test_an_escaped_formula_is_accepted() -> None:
    text = set_field(small_month_file(), 2, "EcritureLib", "'=1+1")

    assert validate_fec(text) == []


def test_a_negative_amount_is_caught() -> None:
    text = set_field(small_month_file(), 2, "Debit", "-30,00")
    text = set_field(text, 3, "Credit", "-30,00")  # still balanced: only the sign is wrong

    assert validate_fec(text) == [
        "line 2: Debit and Credit must not be negative",
        "line 3: Debit and Credit must not be negative",
    ]


def test_both_debit_and_credit_on_one_line_is_caught() -> None:
    text = set_field(small_month_file(), 2, "Debit", "35,00")
    text = set_field(text, 2, "Credit", "5,00")  # the entry still balances: 35 = 5 + 30

    assert validate_fec(text) == ["line 2: exactly one of Debit and Credit must be non-zero"]


def test_a_line_with_no_amount_at_all_is_caught() -> None:
    text = set_field(small_month_file(), 2, "Debit", "0,00")
    text = set_field(text, 3, "Credit", "0,00")

    assert_caught(text, "line 2: exactly one of Debit and Credit must be non-zero")


@pytest.mark.parametrize("value", ["30.00", "30", "30,0", "1 030,00", "1.030,00", "30,001", ""])
def test_a_malformed_amount_is_caught(value: str) -> None:
    text = set_field(small_month_file(), 2, "Debit", value)

    assert_caught(text, f"line 2: Debit {value!r} is not an amount like 1234,56")


def test_an_entry_with_a_single_line_is_caught() -> None:
    lines = small_month_file().split("\r\n")
    text = "\r\n".join([lines[0], lines[1], *lines[3:]])  # VT000001 keeps its debit only

    assert_caught(text, "entry VT000001 (line 2): an entry needs at least two lines")


@pytest.mark.parametrize(
    ("column", "value"),
    [("JournalCode", "EN"), ("EcritureDate", "20250105"), ("PieceRef", "F2025-9999")],
)
def test_the_lines_of_an_entry_share_journal_date_and_piece(column: str, value: str) -> None:
    text = set_field(small_month_file(), 3, column, value)

    assert_caught(text, f"entry VT000001 (line 2): all its lines must share the same {column}")


@pytest.mark.parametrize("column", ["CompAuxNum", "CompAuxLib"])
def test_an_auxiliary_account_needs_both_number_and_label(column: str) -> None:
    text = set_field(small_month_file(), 2, column, "")

    assert validate_fec(text) == [
        "line 2: CompAuxNum and CompAuxLib must be both filled or both empty"
    ]


def test_an_entry_dated_after_its_validation_is_caught() -> None:
    text = set_field(small_month_file(), 2, "ValidDate", "20250105")

    assert validate_fec(text) == ["line 2: EcritureDate is after ValidDate"]


def test_a_line_with_the_wrong_number_of_fields_is_caught() -> None:
    lines = small_month_file().split("\r\n")
    lines[1] += "\textra"

    assert_caught("\r\n".join(lines), "line 2: 19 fields instead of 18")


def test_an_empty_file_and_a_header_alone_are_caught() -> None:
    assert validate_fec("") == ["the file is empty"]
    assert validate_fec("\t".join(COLUMNS) + "\r\n") == ["the file has a header but no entries"]


def test_lf_line_endings_are_accepted_too() -> None:
    assert validate_fec(small_month_file().replace("\r\n", "\n")) == []


# --------------------------------------------------------------------------- escaping


def test_write_fec_escapes_tabs_newlines_and_a_leading_equals_sign() -> None:
    entry = small_month()[0]
    entry.label = '=HYPERLINK("http://evil.example","clic")\tsee\r\nnext line'
    entry.movements = [
        debit(PATIENTS, "30.00", ("P000123", "Patient\tP000123\n")),
        credit(("706", "-Honoraires"), "30.00"),
    ]

    text = write_fec(number_entries([entry]))

    assert validate_fec(text) == []
    assert len(text.split("\r\n")) == 4  # header, two lines, and the final line ending
    first, second = (dict(zip(COLUMNS, row, strict=True)) for row in rows(text)[1:])
    assert first["EcritureLib"] == '\'=HYPERLINK("http://evil.example","clic") see  next line'
    assert first["CompAuxLib"] == "Patient P000123 "
    assert second["CompteLib"] == "'-Honoraires"


def test_unicode_line_separators_are_escaped_too() -> None:
    entry = small_month()[0]
    entry.label = "a\u2028b\x85c\vd"

    first = rows(write_fec(number_entries([entry])))[1]

    assert first[COLUMNS.index("EcritureLib")] == "a b c d"


# --------------------------------------------------------- number_entries refuses early


@pytest.mark.parametrize(
    ("movements", "message"),
    [
        ([debit(CASH, "10.00"), credit(FEES, "9.99")], "debits 10.00 != credits 9.99"),
        ([debit(CASH, "10.00")], "at least two movements"),
        ([debit(CASH, "-10.00"), credit(FEES, "-10.00")], "negative amount"),
        (
            [(*debit(CASH, "10.00")[:5], Decimal("10.00")), credit(FEES, "0.00")],
            "either a debit or a credit",
        ),
        ([debit(CASH, "10.005"), credit(FEES, "10.005")], "not a whole number of cents"),
        ([debit(("", "Caisse"), "10.00"), credit(FEES, "10.00")], "account number and label"),
        ([debit(PATIENTS, "10.00", ("P1", "")), credit(FEES, "10.00")], "auxiliary account"),
    ],
)
def test_number_entries_refuses_an_entry_that_cannot_be_valid(
    movements: list[Movement], message: str
) -> None:
    entry = small_month()[0]
    entry.movements = movements

    with pytest.raises(ValueError, match=message):
        number_entries([entry])


def test_money_must_not_be_a_float() -> None:
    entry = small_month()[0]
    entry.movements = [("531", "Caisse", "", "", 10.0, ZERO), credit(FEES, "10.00")]  # type: ignore[list-item]

    with pytest.raises(TypeError, match="Decimal"):
        number_entries([entry])


# ------------------------------------------------------------------------ the property

ACCOUNTS = [PATIENTS, FEES, CHEQUES, CASH, BANK, ("6226", "Honoraires rétrocédés")]
amounts = st.integers(min_value=1, max_value=10**10).map(lambda cents: Decimal(cents).scaleb(-2))
texts = st.text(min_size=1, max_size=30).filter(lambda value: bool(value.strip()))
auxiliaries = st.one_of(st.just(("", "")), st.tuples(texts, texts))


@st.composite
def balanced_entries(draw: st.DrawFn) -> FecEntry:
    debits = draw(st.lists(amounts, min_size=1, max_size=4))
    total = sum(debits, ZERO)
    credits = [total]
    if total > Decimal("0.01") and draw(st.booleans()):
        cut = Decimal(draw(st.integers(1, int(total * 100) - 1))).scaleb(-2)
        credits = [cut, total - cut]

    def movement(amount: Decimal, is_debit: bool) -> Movement:
        number, label = draw(st.sampled_from(ACCOUNTS))
        aux_num, aux_lib = draw(auxiliaries)
        if is_debit:
            return (number, label, aux_num, aux_lib, amount, ZERO)
        return (number, label, aux_num, aux_lib, ZERO, amount)

    movements = [movement(a, True) for a in debits] + [movement(a, False) for a in credits]
    day = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2025, 12, 31)))
    journal = draw(st.sampled_from([("VT", "Ventes"), ("EN", "Encaissements"), ("=J", "Bad")]))
    return FecEntry(
        journal_code=journal[0],
        journal_lib=journal[1],
        date=day,
        piece_ref=draw(texts),
        piece_date=day,
        label=draw(texts),
        movements=draw(st.permutations(movements)),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(balanced_entries(), min_size=1, max_size=8))
def test_any_balanced_entries_written_by_write_fec_validate(entries: list[FecEntry]) -> None:
    text = write_fec(number_entries(entries))

    assert validate_fec(text) == []
    by_account = totals(text)
    assert sum((d for d, _ in by_account.values()), ZERO) == sum(
        (c for _, c in by_account.values()), ZERO
    )
