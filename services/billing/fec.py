"""The FEC (Fichier des Écritures Comptables): the flat file of every journal entry that a
French taxpayer keeping computerised books must hand to the tax administration on request
(article L47 A of the Livre des procédures fiscales; format in article A47 A-1), and that
accountants import every year.

Pure Python on purpose: no Django, no database. The billing service turns invoices,
payments and credit notes into `FecEntry` objects; this module numbers them, writes the
file and checks it. Keeping the format apart from the models means it can be tested on
its own and reused by the cooperative (same engine, another issuer).

Format decisions (each one is checked again by `validate_fec`):

- **Numbering.** `EcritureNum` is sequential *per journal*, as most accounting software
  does and as accountants expect: the journal code followed by six digits, starting at 1
  (``VT000001``, ``VT000002``, ``BQ000001``...). Entries are numbered in date order, then
  in the order they were given (a stable sort), so the numbering is chronological within
  each journal. The journal code prefix keeps every number unique in the file.
- **Lines.** Tab-separated, one line per movement, CRLF line endings (the administration
  accepts CR, LF or CRLF; CRLF is what the Windows tools most accountants use expect),
  a line ending after the last line too. The header holds the 18 official column names.
- **Encoding.** `write_fec` returns ``str``; encode it as UTF-8 without a byte-order mark
  (`ENCODING`). The text of A47 A-1 names older character sets (ASCII, ISO 8859-15); if an
  accountant's tool insists, every French letter and the euro sign fit in ISO 8859-15.
- **Dates** are ``YYYYMMDD``; **amounts** have a comma decimal separator, exactly two
  decimals, no thousands separator, no sign (a movement is a debit or a credit).
- **Empty optional fields** (auxiliary account, lettering, currency) are empty strings.
- **Escaping.** Tabs, CR, LF and the other characters Python treats as line breaks are
  replaced by a space inside text fields, so that a label can never shift a column or
  split a line. A text field whose first non-blank character is ``=``, ``+``, ``-`` or
  ``@`` gets a leading apostrophe, so that a spreadsheet opening the file shows it as text
  instead of running it as a formula (CSV/formula injection: a patient-supplied label such
  as ``=HYPERLINK(...)`` would otherwise become a live link). The apostrophe stays in the
  data: accounting software imports ``'=HYPERLINK(...)`` as a harmless label. Leading tab
  and CR, the other two characters of the usual rule, cannot occur: they became spaces.
- **Debit and credit.** Every line carries exactly one non-zero amount, never negative;
  a refund or a credit note is written as movements in the other direction.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

ENCODING = "utf-8"
LINE_ENDING = "\r\n"
SEPARATOR = "\t"

COLUMNS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)

REQUIRED_COLUMNS: frozenset[str] = frozenset(
    {
        "JournalCode",
        "JournalLib",
        "EcritureNum",
        "EcritureDate",
        "CompteNum",
        "CompteLib",
        "PieceRef",
        "PieceDate",
        "EcritureLib",
        "ValidDate",
    }
)
DATE_COLUMNS: frozenset[str] = frozenset({"EcritureDate", "PieceDate", "DateLet", "ValidDate"})
AMOUNT_COLUMNS: frozenset[str] = frozenset({"Debit", "Credit", "Montantdevise"})
TEXT_COLUMNS: tuple[str, ...] = tuple(
    name for name in COLUMNS if name not in DATE_COLUMNS | AMOUNT_COLUMNS
)

NUMBER_DIGITS = 6
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# Characters a spreadsheet may read as the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@")
# Everything `str.splitlines` treats as a line break, plus the field separator.
_BREAKING_CHARACTERS = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_DATE = re.compile(r"\d{8}")
_AMOUNT = re.compile(r"-?\d+,\d{2}")

# One movement of an entry: (CompteNum, CompteLib, CompAuxNum, CompAuxLib, Debit, Credit).
Movement = tuple[str, str, str, str, Decimal, Decimal]


@dataclass(frozen=True, kw_only=True)
class FecLine:
    """One line of the file: one movement of one entry, field for field.

    Keyword-only because eighteen positional arguments, several of them strings, are an
    invitation to swap two columns without anyone noticing.
    """

    journal_code: str
    journal_lib: str
    ecriture_num: str
    ecriture_date: date
    compte_num: str
    compte_lib: str
    comp_aux_num: str = ""
    comp_aux_lib: str = ""
    piece_ref: str
    piece_date: date
    ecriture_lib: str
    debit: Decimal
    credit: Decimal
    ecriture_let: str = ""
    date_let: date | None = None
    valid_date: date
    montantdevise: Decimal | None = None
    idevise: str = ""


@dataclass
class FecEntry:
    """One accounting entry (écriture): balanced movements sharing a journal, a date and a
    supporting document (the invoice, payment or credit note number in `piece_ref`).
    """

    journal_code: str
    journal_lib: str
    # datetime.date spelled out: the field named `date` hides the type inside the class.
    date: datetime.date
    piece_ref: str
    piece_date: datetime.date
    label: str
    movements: list[Movement] = field(default_factory=list)


# --------------------------------------------------------------------------- numbering


def ecriture_num(journal_code: str, sequence: int) -> str:
    """The entry number: journal code and a 6-digit counter per journal (``VT000001``)."""
    return f"{journal_code}{sequence:0{NUMBER_DIGITS}d}"


def number_entries(entries: Iterable[FecEntry]) -> list[FecLine]:
    """Number the entries and flatten them into file lines, in file order.

    Entries are sorted by date (stable, so same-day entries keep their input order) and
    numbered from 1 within each journal, which makes the numbering chronological and
    gap-free as the administration requires. ValidDate is the entry date: Carnet records
    an entry when the invoice, payment or credit note is issued, and never edits it.

    A malformed entry raises ``ValueError`` here rather than producing a file that the
    accountant or the tax administration would reject later.
    """
    ordered = sorted(entries, key=lambda entry: entry.date)
    counters: dict[str, int] = {}
    lines: list[FecLine] = []
    for entry in ordered:
        _check_entry(entry)
        counters[entry.journal_code] = counters.get(entry.journal_code, 0) + 1
        number = ecriture_num(entry.journal_code, counters[entry.journal_code])
        for compte_num, compte_lib, aux_num, aux_lib, debit, credit in entry.movements:
            lines.append(
                FecLine(
                    journal_code=entry.journal_code,
                    journal_lib=entry.journal_lib,
                    ecriture_num=number,
                    ecriture_date=entry.date,
                    compte_num=compte_num,
                    compte_lib=compte_lib,
                    comp_aux_num=aux_num,
                    comp_aux_lib=aux_lib,
                    piece_ref=entry.piece_ref,
                    piece_date=entry.piece_date,
                    ecriture_lib=entry.label,
                    debit=debit,
                    credit=credit,
                    valid_date=entry.date,
                )
            )
    return lines


def _check_entry(entry: FecEntry) -> None:
    """Refuse an entry that could only produce an invalid file."""
    where = f"entry {entry.piece_ref!r} of {entry.date.isoformat()}"
    for name in ("journal_code", "journal_lib", "piece_ref", "label"):
        if not getattr(entry, name).strip():
            raise ValueError(f"{where}: {name} is empty")
    if len(entry.movements) < 2:
        raise ValueError(f"{where}: an entry needs at least two movements")
    total_debit = total_credit = ZERO
    for compte_num, compte_lib, aux_num, aux_lib, debit, credit in entry.movements:
        if not compte_num.strip() or not compte_lib.strip():
            raise ValueError(f"{where}: every movement needs an account number and label")
        if bool(aux_num.strip()) != bool(aux_lib.strip()):
            raise ValueError(f"{where}: auxiliary account {aux_num!r} needs a number and label")
        for amount in (debit, credit):
            _check_amount(amount)
            if amount < 0:
                raise ValueError(f"{where}: negative amount {amount}")
        if (debit != 0) == (credit != 0):
            raise ValueError(f"{where}: each movement is either a debit or a credit")
        total_debit += debit
        total_credit += credit
    if total_debit != total_credit:
        raise ValueError(f"{where}: debits {total_debit} != credits {total_credit}")


def _check_amount(amount: object) -> None:
    """Money is Decimal with at most two decimals: a float or a third decimal would be
    rounded silently when written, and a rounded entry may no longer balance."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amounts must be Decimal, not {type(amount).__name__}")
    try:
        whole_cents = amount.is_finite() and amount == amount.quantize(CENT)
    except InvalidOperation:  # too many digits for the decimal context
        whole_cents = False
    if not whole_cents:
        raise ValueError(f"amount {amount} is not a whole number of cents")


# ----------------------------------------------------------------------------- writing


def write_fec(lines: Iterable[FecLine]) -> str:
    """The file's text: header, then one tab-separated line per movement, CRLF endings.

    The lines are written as given, without re-checking the accounting rules (that is
    `number_entries`' job before and `validate_fec`'s after), so that tests can build an
    invalid file on purpose. Only what cannot be written faithfully is refused: a float
    or an amount with more than two decimals.
    """
    rows = [SEPARATOR.join(COLUMNS)]
    for line in lines:
        rows.append(SEPARATOR.join(_fields(line)))
    return LINE_ENDING.join(rows) + LINE_ENDING


def _fields(line: FecLine) -> list[str]:
    return [
        escape_text(line.journal_code),
        escape_text(line.journal_lib),
        escape_text(line.ecriture_num),
        _date(line.ecriture_date),
        escape_text(line.compte_num),
        escape_text(line.compte_lib),
        escape_text(line.comp_aux_num),
        escape_text(line.comp_aux_lib),
        escape_text(line.piece_ref),
        _date(line.piece_date),
        escape_text(line.ecriture_lib),
        _amount(line.debit),
        _amount(line.credit),
        escape_text(line.ecriture_let),
        _date(line.date_let),
        _date(line.valid_date),
        _amount(line.montantdevise),
        escape_text(line.idevise),
    ]


def escape_text(value: str) -> str:
    """A text field made safe for the file and for spreadsheets (see the module docstring).

    Separators and line breaks become spaces; a field that a spreadsheet would read as a
    formula gets a leading apostrophe.
    """
    cleaned = _BREAKING_CHARACTERS.sub(" ", value)
    if _looks_like_formula(cleaned):
        return "'" + cleaned
    return cleaned


def _looks_like_formula(value: str) -> bool:
    # Leading blanks are skipped: some spreadsheets trim them before parsing a cell.
    return value.lstrip().startswith(FORMULA_TRIGGERS)


def _date(value: date | None) -> str:
    return "" if value is None else f"{value:%Y%m%d}"


def _amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    _check_amount(value)
    if value == 0:
        value = ZERO  # never write "-0,00"
    return f"{value.quantize(CENT):f}".replace(".", ",")


def fec_filename(siren: str, closing_date: date) -> str:
    """The name the administration expects: SIREN, "FEC", closing date of the fiscal year.

    The SIREN (9 digits, spaces allowed as usually printed) is checked because it ends up
    in a file path.
    """
    digits = "".join(siren.split())
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError(f"a SIREN has 9 digits, not {siren!r}")
    return f"{digits}FEC{closing_date:%Y%m%d}.txt"


# -------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class _Row:
    """A parsed line: its number in the file (header = 1) and its fields by column."""

    number: int
    fields: Mapping[str, str]

    def __getitem__(self, column: str) -> str:
        return self.fields[column]


def _split_lines(text: str) -> list[str]:
    """Lines of the file, accepting LF and CRLF, ignoring the final line ending."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _parse_date(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _parse_amount(value: str) -> Decimal | None:
    if not _AMOUNT.fullmatch(value):
        return None
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        return None


def validate_fec(text: str) -> list[str]:
    """Every problem found in a FEC, as sentences; an empty list means the file is valid.

    Run on our own output before handing it over: a FEC refused during a tax audit costs
    a fine, and a file the accountant cannot import costs a phone call. Line numbers count
    the header as line 1.
    """
    lines = _split_lines(text.removeprefix("\ufeff"))
    if not lines:
        return ["the file is empty"]
    problems: list[str] = []
    header_problem = _header_problem(lines[0])
    if header_problem:
        problems.append(header_problem)
    rows: list[_Row] = []
    for number, line in enumerate(lines[1:], start=2):
        values = line.split(SEPARATOR)
        if len(values) != len(COLUMNS):
            problems.append(f"line {number}: {len(values)} fields instead of {len(COLUMNS)}")
            continue
        row = _Row(number, dict(zip(COLUMNS, values, strict=True)))
        problems.extend(_line_problems(row))
        rows.append(row)
    if len(lines) == 1:
        problems.append("the file has a header but no entries")
    problems.extend(_entry_problems(rows))
    problems.extend(_numbering_problems(rows))
    return problems


def _header_problem(header: str) -> str | None:
    """What is wrong with the header, naming the first column that differs."""
    names = tuple(header.split(SEPARATOR))
    if names == COLUMNS:
        return None
    start = "line 1: the header must be the 18 official columns, tab-separated, in order"
    for position, (found, expected) in enumerate(zip(names, COLUMNS, strict=False), start=1):
        if found != expected:
            return f"{start}; column {position} is {found!r} instead of {expected!r}"
    return f"{start}; it has {len(names)} columns"


def _line_problems(row: _Row) -> list[str]:
    """Checks that need only one line: presence, formats, amounts, escaping."""
    problems: list[str] = []
    at = f"line {row.number}"
    for column in COLUMNS:
        value = row[column]
        if column in REQUIRED_COLUMNS and not value.strip():
            problems.append(f"{at}: {column} is required")
        elif column in DATE_COLUMNS and value and _parse_date(value) is None:
            problems.append(f"{at}: {column} {value!r} is not a valid date YYYYMMDD")
        elif (
            column in AMOUNT_COLUMNS
            and (value or column != "Montantdevise")
            and _parse_amount(value) is None
        ):
            problems.append(
                f"{at}: {column} {value!r} is not an amount like 1234,56 "
                "(comma, two decimals, no thousands separator)"
            )
        if column in TEXT_COLUMNS and _looks_like_formula(value):
            problems.append(
                f"{at}: {column} {value!r} starts like a spreadsheet formula "
                "and is not escaped with an apostrophe"
            )
        if "\r" in value:
            problems.append(f"{at}: {column} contains a carriage return")
    if bool(row["CompAuxNum"].strip()) != bool(row["CompAuxLib"].strip()):
        problems.append(f"{at}: CompAuxNum and CompAuxLib must be both filled or both empty")
    debit, credit = _parse_amount(row["Debit"]), _parse_amount(row["Credit"])
    if debit is not None and credit is not None:
        if debit < 0 or credit < 0:
            problems.append(f"{at}: Debit and Credit must not be negative")
        elif (debit != 0) == (credit != 0):
            problems.append(f"{at}: exactly one of Debit and Credit must be non-zero")
    entry_date, valid_date = _parse_date(row["EcritureDate"]), _parse_date(row["ValidDate"])
    if entry_date and valid_date and entry_date > valid_date:
        problems.append(f"{at}: EcritureDate is after ValidDate")
    return problems


def _entry_problems(rows: Sequence[_Row]) -> list[str]:
    """Checks across the lines of one entry: shared header fields, size, balance."""
    entries: dict[str, list[_Row]] = {}
    for row in rows:
        entries.setdefault(row["EcritureNum"], []).append(row)
    problems: list[str] = []
    for number, entry_rows in entries.items():
        at = f"entry {number} (line {entry_rows[0].number})"
        if len(entry_rows) < 2:
            problems.append(f"{at}: an entry needs at least two lines")
        for column in ("JournalCode", "EcritureDate", "PieceRef"):
            if len({row[column] for row in entry_rows}) > 1:
                problems.append(f"{at}: all its lines must share the same {column}")
        debits = [_parse_amount(row["Debit"]) for row in entry_rows]
        credits = [_parse_amount(row["Credit"]) for row in entry_rows]
        if None in debits or None in credits:
            continue  # an unreadable amount is already reported on its line
        debit = sum((amount for amount in debits if amount is not None), ZERO)
        credit = sum((amount for amount in credits if amount is not None), ZERO)
        if debit != credit:
            problems.append(
                f"{at}: not balanced, debits {_amount(debit)} != credits {_amount(credit)}"
            )
    return problems


def _amount_of(row: _Row, column: str) -> Decimal:
    amount = _parse_amount(row[column])
    if amount is None:
        raise ValueError(f"line {row.number}: {column} {row[column]!r} is not an amount")
    return amount


def _numbering_problems(rows: Sequence[_Row]) -> list[str]:
    """EcritureNum is the journal code and a counter that starts at 1 and grows by one per
    entry within each journal, in file order, with the lines of an entry kept together
    and entry dates never going backwards (the numbering is chronological)."""
    problems: list[str] = []
    current: dict[str, tuple[str, int, date]] = {}  # journal -> last number, counter, date
    seen: set[str] = set()
    previous_num: str | None = None
    for row in rows:
        journal, number = row["JournalCode"], row["EcritureNum"]
        at = f"line {row.number}"
        if number == previous_num:
            continue
        previous_num = number
        if number in seen:
            problems.append(f"{at}: the lines of entry {number} are not contiguous")
            continue
        seen.add(number)
        match = re.fullmatch(re.escape(journal) + r"(\d+)", number)
        if match is None:
            problems.append(
                f"{at}: EcritureNum {number!r} is not the journal code {journal!r} "
                "followed by a sequence number"
            )
            continue
        counter = int(match.group(1))
        entry_date = _parse_date(row["EcritureDate"]) or date.min  # bad dates reported already
        last_num, last_counter, last_date = current.get(journal, ("", 0, date.min))
        if counter != last_counter + 1:
            expected = ecriture_num(journal, last_counter + 1)
            after = f" after {last_num}" if last_num else ""
            problems.append(
                f"{at}: EcritureNum {number} breaks the sequence of journal {journal}: "
                f"expected {expected}{after}"
            )
        if entry_date < last_date:
            problems.append(f"{at}: entry {number} is dated before entry {last_num}")
        current[journal] = (number, counter, max(entry_date, last_date))
    return problems


# ----------------------------------------------------------------------------- totals


def totals(text: str) -> dict[str, tuple[Decimal, Decimal]]:
    """Total debit and credit per account number (CompteNum), sorted by account.

    For reconciliation: the 531 (cash) and 5112 (cheques) debits must match the daily cash
    journal, and the grand totals must be equal. Validate the file first: a line whose
    amounts cannot be read raises ``ValueError``.
    """
    sums: dict[str, tuple[Decimal, Decimal]] = {}
    for number, line in enumerate(_split_lines(text.removeprefix("\ufeff"))[1:], start=2):
        values = line.split(SEPARATOR)
        if len(values) != len(COLUMNS):
            raise ValueError(f"line {number}: {len(values)} fields instead of {len(COLUMNS)}")
        row = _Row(number, dict(zip(COLUMNS, values, strict=True)))
        debit, credit = sums.get(row["CompteNum"], (ZERO, ZERO))
        sums[row["CompteNum"]] = (
            debit + _amount_of(row, "Debit"),
            credit + _amount_of(row, "Credit"),
        )
    return dict(sorted(sums.items()))
