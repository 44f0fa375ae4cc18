"""What every laboratory format is read into, and the checks they share."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A result file is a few kilobytes; a report with images embedded rarely passes 1 MB.
MAX_BYTES = 2 * 1024 * 1024

# Flags as both formats write them (HPRIM's and HL7's table 0078 agree on these).
FLAGS = {
    "L": "low",
    "LL": "critically_low",
    "H": "high",
    "HH": "critically_high",
    "A": "abnormal",
    "AA": "critically_abnormal",
    "N": "normal",
}
ABNORMAL = {"low", "critically_low", "high", "critically_high", "abnormal", "critically_abnormal"}

REASONS = {
    "empty": _("The file is empty."),
    "too_large": _("The file is larger than 2 MB: it is not a result message."),
    "binary": _("The file is not text (it holds binary data): it is not a result message."),
    "unknown_format": _("This file is neither an HPRIM Santé nor an HL7 v2 result message."),
    "truncated": _("The message is cut short: its end marker is missing, so results may be lost."),
    "no_results": _("The message holds no result."),
    "bad_hl7": _("The HL7 message cannot be read: %(detail)s"),
    "not_oru": _("The HL7 message is not a result message (ORU^R01) but %(kind)s."),
}


class LabFileError(ValueError):
    """A file that cannot be imported, with a reason a person can act on."""

    def __init__(self, code: str, fallback: str = "", **params: str) -> None:
        self.code, self.params = code, params
        super().__init__(fallback or code)

    @property
    def message(self) -> str:
        return (
            str(REASONS.get(self.code, self.code)) % self.params
            if self.params
            else str(REASONS.get(self.code, self.code))
        )


@dataclass(frozen=True)
class Identity:
    """Who the laboratory says the results are for."""

    family: str = ""
    given: str = ""
    birth_date: date | None = None
    sex: str = ""  # "M", "F" or "" when the message does not say
    nir: str = ""  # 13 digits (the key apart), "" when absent or malformed
    lab_patient_id: str = ""

    @property
    def usable(self) -> bool:
        """Enough to look a patient up: a name and a birth date, or a NIR."""
        return bool((self.family and self.birth_date) or self.nir)


@dataclass(frozen=True)
class ParsedResult:
    label: str
    code: str  # the LOINC code when the message has one, else the laboratory's code
    code_system: str  # "LN" (LOINC) or "lab"
    value: Decimal | None
    value_text: str
    unit: str
    low: Decimal | None
    high: Decimal | None
    range_text: str
    flag: str  # one of FLAGS' values, or "" when neither the laboratory nor the range says
    status: str = ""  # F final, P partial, C corrected (as sent)
    observed_at: datetime | None = None

    @property
    def abnormal(self) -> bool:
        return self.flag in ABNORMAL


@dataclass(frozen=True)
class ParsedMessage:
    format: str  # "hprim" or "hl7v2"
    message_id: str  # the laboratory's own id (HL7 MSH-10, HPRIM request number), or ""
    identity: Identity
    laboratory: str
    recipient: str
    observed_on: date | None
    results: tuple[ParsedResult, ...]
    report_text: str = ""
    skipped: tuple[str, ...] = field(default_factory=tuple)  # lines not read, and why


def decode(raw: bytes) -> str:
    """The text of a file: UTF-8 when it is, else ISO-8859-1 (Windows-1252), as most
    HPRIM files are written."""
    if not raw or not raw.strip():
        raise LabFileError("empty")
    if len(raw) > MAX_BYTES:
        raise LabFileError("too_large")
    if b"\x00" in raw:
        raise LabFileError("binary")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t\x0b\x0c")
    if controls > len(text) // 100:
        raise LabFileError("binary")
    return text


def number(text: str) -> Decimal | None:
    """A decimal written the French or the English way ("1,41", "1.41", "< 0.12" is not
    a number but a text result)."""
    cleaned = text.strip().replace(",", ".").replace(" ", "")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None


_RANGE = re.compile(r"^\s*([-+]?\d+(?:[.,]\d+)?)\s*(?:-|à|a)\s*([-+]?\d+(?:[.,]\d+)?)\s*$")


def reference_range(low: str, high: str) -> tuple[Decimal | None, Decimal | None, str]:
    """The range as numbers and as written. A laboratory may put the whole range in the
    first field ("2.20-2.60", "-2 - 2")."""
    low, high = low.strip(), high.strip()
    if low and not high:
        both = _RANGE.match(low)
        if both:
            return number(both.group(1)), number(both.group(2)), low
        return None, None, low  # "> 5", "négatif": kept as written
    written = (
        f"{low} - {high}"
        if low and high
        else (f"≤ {high}" if high else (f"≥ {low}" if low else ""))
    )
    return number(low), number(high), written


def flag_of(sent: str, value: Decimal | None, low: Decimal | None, high: Decimal | None) -> str:
    """The laboratory's flag when it sent one, else what the range says of the value."""
    sent = sent.strip().upper()
    if sent in FLAGS:
        return FLAGS[sent]
    if value is None:
        return ""
    if low is not None and value < low:
        return "low"
    if high is not None and value > high:
        return "high"
    if low is not None or high is not None:
        return "normal"
    return ""


def nir_digits(text: str) -> str:
    """The 13 digits of a NIR written with spaces and its key ("1 23 45 ... 76"), or ""
    (Corsican 2A/2B departments kept as written)."""
    cleaned = re.sub(r"\s", "", text).upper()
    match = re.fullmatch(r"([12]\d{2}\d{2}(?:\d{2}|2A|2B)\d{6})(\d{2})?", cleaned)
    return match.group(1) if match else ""


def sex_of_nir(nir: str) -> str:
    return {"1": "M", "2": "F"}.get(nir[:1], "")


def french_date(text: str) -> date | None:
    """dd/mm/yyyy or dd/mm/yy (a two-digit year is this century's unless that is in the
    future)."""
    match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\s*", text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    if year < 100:
        year += 2000 if year + 2000 <= timezone.localdate().year else 1900
    try:
        return date(year, month, day)
    except ValueError:
        return None
