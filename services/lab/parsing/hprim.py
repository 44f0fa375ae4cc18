"""HPRIM Santé: twelve header lines (the patient and the laboratory), the report as the
laboratory printed it, then a ``****LAB****`` block whose ``RES|`` lines carry the
results as data:

    RES|label|code|type|value|unit|low|high|flag|status|value2|unit2|low2|high2

The block ends with ``****FIN****`` (and the file with ``****FINFICHIER****``).
"""

from __future__ import annotations

import re

from lab.parsing.common import (
    Identity,
    LabFileError,
    ParsedMessage,
    ParsedResult,
    flag_of,
    french_date,
    nir_digits,
    number,
    reference_range,
    sex_of_nir,
)

LAB, END = "****LAB****", "****FIN****"
HEADER_LINES = 12


def looks_like_hprim(text: str) -> bool:
    """A LAB block or result lines, or an HPRIM header (its birth and exam dates where
    HPRIM puts them): a file cut before its block is still recognised, and said cut."""
    if LAB in text or any(line.lstrip().startswith("RES|") for line in text.splitlines()):
        return True
    header = text.replace("\r\n", "\n").split("\n")[:HEADER_LINES]
    return len(header) >= 10 and bool(french_date(header[6]) and french_date(header[9]))


def split_messages(text: str) -> list[str]:
    """The messages of one HPRIM file: a laboratory often sends the day's patients in
    one file, each message ending with its ``****FIN****`` line (the file with
    ``****FINFICHIER****``). A file of one message is returned whole."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    messages, current = [], []
    for line in lines:
        if line.strip() == "****FINFICHIER****":
            break
        current.append(line)
        if line.strip() == END:
            messages.append("\n".join(current) + "\n")
            current = []
    rest = "\n".join(current).strip()
    if rest:
        messages.append("\n".join(current))  # a message cut short: said when read
    return messages if len(messages) > 1 else [text]


def _identity(header: list[str]) -> Identity:
    """The header's patient, if the lines are where HPRIM puts them (line 7 a date)."""
    lines = [line.strip() for line in header] + [""] * HEADER_LINES
    birth = french_date(lines[6])
    if birth is None:
        return Identity()
    nir = nir_digits(lines[7])
    return Identity(
        family=lines[1],
        given=lines[2],
        birth_date=birth,
        sex=sex_of_nir(nir),
        nir=nir,
        lab_patient_id=lines[0],
    )


def _result(fields: list[str], observed: str) -> ParsedResult | None:
    fields = [f.strip() for f in fields] + [""] * 14
    label, code, kind, raw_value, unit, low, high, flag, status = fields[1:10]
    if not label and not raw_value:
        return None  # an empty line of the block ("RES||code|A"): nothing to keep
    value = number(raw_value) if kind.upper() != "A" else None
    low_number, high_number, range_text = reference_range(low, high)
    return ParsedResult(
        label=label or code,
        code=code,
        code_system="lab",
        value=value,
        value_text="" if value is not None else raw_value,
        unit=unit,
        low=low_number,
        high=high_number,
        range_text=range_text,
        flag=flag_of(flag, value, low_number, high_number),
        status=status.upper()[:1],
    )


def parse_hprim(text: str) -> ParsedMessage:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    markers = [line.strip() for line in lines]
    has_results = any(m.startswith("RES|") for m in markers)
    if (LAB in markers or not has_results) and END not in markers:
        raise LabFileError("truncated")
    first_block = next(
        (i for i, m in enumerate(markers) if m == LAB or m.startswith("RES|")), len(lines)
    )
    header = lines[: min(HEADER_LINES, first_block)]
    identity = _identity(header)
    observed_on = french_date(header[9]) if identity.birth_date and len(header) > 9 else None
    results, skipped = [], []
    for number_, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped.startswith("RES|"):
            continue
        result = _result(stripped.split("|"), "")
        if result is None:
            skipped.append(f"line {number_}: empty result line")
        else:
            results.append(result)
    if not results:
        raise LabFileError("no_results")
    report = lines[HEADER_LINES if identity.birth_date else 0 : first_block]
    if not any(part.strip() for part in report):
        report = [re.sub(r"^TEX\|?", "", m) for m in markers if m.startswith("TEX")]
    return ParsedMessage(
        format="hprim",
        message_id=(header[8].strip() if identity.birth_date and len(header) > 8 else ""),
        identity=identity,
        laboratory=header[10].strip() if identity.birth_date and len(header) > 10 else "",
        recipient=header[11].strip() if identity.birth_date and len(header) > 11 else "",
        observed_on=observed_on,
        results=tuple(results),
        report_text="\n".join(report).strip("\n"),
        skipped=tuple(skipped),
    )
