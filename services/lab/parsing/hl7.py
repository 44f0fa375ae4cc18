"""HL7 v2.5 ORU^R01 (unsolicited results), read with hl7apy: the patient (PID), the
order (OBR: its date) and each result (OBX: code, value, unit, range, flag).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from hl7apy.exceptions import HL7apyException
from hl7apy.parser import parse_message

from lab.parsing.common import (
    Identity,
    LabFileError,
    ParsedMessage,
    ParsedResult,
    flag_of,
    nir_digits,
    number,
    reference_range,
)


def looks_like_hl7(text: str) -> bool:
    return text.lstrip().startswith("MSH|")


def _field(segment: object, name: str) -> str:
    try:
        return str(getattr(segment, name).to_er7())
    except (AttributeError, HL7apyException, IndexError):
        return ""


def _component(er7: str, index: int) -> str:
    parts = er7.split("^")
    return parts[index].strip() if index < len(parts) else ""


def _hl7_datetime(text: str) -> datetime | None:
    """An HL7 time (YYYYMMDD[HHMM[SS]], an offset ignored) in the practice's time zone,
    which is the laboratory's."""
    digits = text.strip().split("+")[0].split("-")[0].split(".")[0]
    for form, width in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        if len(digits) >= width:
            try:
                naive = datetime.strptime(digits[:width], form)  # noqa: DTZ007 (made aware below)
            except ValueError:
                return None
            return timezone.make_aware(naive)
    return None


def _hl7_date(text: str) -> date | None:
    when = _hl7_datetime(text[:8])
    return when.date() if when else None


def _identity(pid: object) -> Identity:
    names = _field(pid, "pid_5").split("~")[0]
    nir = ""
    # PID-3 holds the patient's identifiers; a NIR (or the INS, which is the NIR) is the
    # one of 13 digits and a key, whichever authority the laboratory names.
    for identifier in _field(pid, "pid_3").split("~"):
        nir = nir or nir_digits(_component(identifier, 0))
    sex = _field(pid, "pid_8").strip().upper()
    return Identity(
        family=_component(names, 0),
        given=_component(names, 1),
        birth_date=_hl7_date(_field(pid, "pid_7")),
        sex=sex if sex in ("M", "F") else "",
        nir=nir,
        lab_patient_id=_component(_field(pid, "pid_3").split("~")[0], 0),
    )


def _result(obx: object, observed: datetime | None) -> ParsedResult | None:
    code = _field(obx, "obx_3")
    raw_value = _field(obx, "obx_5").replace("\\S\\", "^")
    label = _component(code, 1) or _component(code, 0)
    if not label and not raw_value:
        return None
    system = "LN" if _component(code, 2).upper() in ("LN", "LOINC") else "lab"
    kind = _field(obx, "obx_2").upper()
    value = number(raw_value) if kind in ("NM", "SN", "") else None
    low, high, range_text = reference_range(_field(obx, "obx_7"), "")
    return ParsedResult(
        label=label,
        code=_component(code, 0),
        code_system=system,
        value=value,
        value_text="" if value is not None else raw_value,
        unit=_component(_field(obx, "obx_6"), 0),
        low=low,
        high=high,
        range_text=range_text,
        flag=flag_of(_field(obx, "obx_8"), value, low, high),
        status=_field(obx, "obx_11").upper()[:1],
        observed_at=_hl7_datetime(_field(obx, "obx_14")) or observed,
    )


def parse_hl7(text: str) -> ParsedMessage:
    segments = "\r".join(
        line for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if line
    )
    try:
        message = parse_message(segments, find_groups=False)
    except (HL7apyException, ValueError, IndexError, KeyError) as error:
        raise LabFileError("bad_hl7", detail=str(error)[:200]) from None
    kind = _field(message.msh, "msh_9")
    if not kind.upper().startswith("ORU^R01"):
        raise LabFileError("not_oru", kind=kind or "?")
    identity, observed, results, skipped = Identity(), None, [], []
    for segment in message.children:
        name = segment.name
        if name == "PID":
            identity = _identity(segment)
        elif name == "OBR":
            observed = _hl7_datetime(_field(segment, "obr_7"))
        elif name == "OBX":
            result = _result(segment, observed)
            if result is None:
                skipped.append("OBX without a value")
            else:
                results.append(result)
    if not results:
        raise LabFileError("no_results")
    notes = [_field(s, "nte_3") for s in message.children if s.name == "NTE"]
    return ParsedMessage(
        format="hl7v2",
        message_id=_field(message.msh, "msh_10"),
        identity=identity,
        laboratory=_component(_field(message.msh, "msh_4"), 0)
        or _component(_field(message.msh, "msh_3"), 0),
        recipient=_component(_field(message.msh, "msh_6"), 0),
        observed_on=observed.date() if observed else None,
        results=tuple(results),
        report_text="\n".join(n for n in notes if n),
        skipped=tuple(skipped),
    )
