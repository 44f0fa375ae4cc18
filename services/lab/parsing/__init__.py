"""Reading a laboratory file into a ``ParsedMessage`` — pure functions, no database.

``parse(raw)`` recognises the format (HPRIM Santé or HL7 v2.5 ORU^R01) and raises
``LabFileError`` with a reason a person can act on for anything it cannot read.
"""

from lab.parsing.common import (
    MAX_BYTES,
    Identity,
    LabFileError,
    ParsedMessage,
    ParsedResult,
    decode,
)
from lab.parsing.hl7 import looks_like_hl7, parse_hl7
from lab.parsing.hprim import looks_like_hprim, parse_hprim, split_messages

__all__ = [
    "MAX_BYTES",
    "Identity",
    "LabFileError",
    "ParsedMessage",
    "ParsedResult",
    "messages_of",
    "parse",
]


def messages_of(raw: bytes) -> list[bytes]:
    """The messages a file holds: several for an HPRIM file of several patients, else
    the file itself (whatever it is: ``parse`` says what is wrong with it)."""
    try:
        text = decode(raw)
    except LabFileError:
        return [raw]
    if looks_like_hl7(text) or not looks_like_hprim(text):
        return [raw]
    parts = split_messages(text)
    return [raw] if len(parts) == 1 else [part.encode("utf-8") for part in parts]


def parse(raw: bytes) -> ParsedMessage:
    """The message in ``raw``, whatever its format; ``LabFileError`` if it is not one."""
    text = decode(raw)
    if looks_like_hl7(text):
        return parse_hl7(text)
    if looks_like_hprim(text):
        return parse_hprim(text)
    raise LabFileError(
        "unknown_format",
        "This file is neither an HPRIM Santé nor an HL7 v2 result message.",
    )
