"""The hash of an audit event: one canonical form, used to write and to verify."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

HASHED_FIELDS = (
    "chain",
    "seq",
    "prev_hash",
    "occurred_at",
    "practice_id",
    "actor_id",
    "actor_label",
    "action",
    "outcome",
    "patient_id",
    "category",
    "purpose",
    "reason",
    "target",
    "ip",
    "user_agent",
    "request_id",
    "channel",
    "details",
)


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical_reference(fields: dict[str, Any]) -> bytes:
    """The canonical form, by definition: the hashed fields as JSON, keys sorted, no
    spaces, UTF-8."""
    data = {name: _normalise(fields[name]) for name in HASHED_FIELDS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# The same bytes, written field by field: `carnet audit verify` hashes a million events,
# and the generic encoder (a dict built, its keys sorted, every value's type looked up)
# was most of the time. Strings go through the very function json.dumps uses for them.
_KEYS = sorted(HASHED_FIELDS)
_PREFIXES = [('{"' if index == 0 else ',"') + key + '":' for index, key in enumerate(_KEYS)]
_string = json.encoder.encode_basestring  # what json.dumps(..., ensure_ascii=False) uses
_details = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


# The hashed fields in the canonical form's order (keys sorted).
SORTED_FIELDS = tuple(_KEYS)


class EncodedJSON(str):
    """A value already written in the canonical form (``encoded``): verification
    memoises the details, which repeat from one event to the next."""


def encoded(value: Any) -> EncodedJSON:
    return EncodedJSON(_details(value))


def canonical(fields: dict[str, Any]) -> bytes:
    return canonical_values([fields[key] for key in _KEYS])


def canonical_values(values: list[Any]) -> bytes:
    """The canonical form from the values of ``SORTED_FIELDS``, in that order (how
    `carnet audit verify` reads them, without building a dict per event)."""
    parts = []
    for prefix, value in zip(_PREFIXES, values, strict=True):
        kind = type(value)
        if kind is str:
            text = _string(value)
        elif kind is int:
            text = int.__repr__(value)
        elif value is None:
            text = "null"
        elif kind is dict:
            text = _details(value)
        elif kind is EncodedJSON:
            text = value
        elif kind is datetime:
            text = _string(_normalise(value))
        else:  # anything else (a float, a list...): the definition itself
            return canonical_reference(
                {
                    key: json.loads(item) if type(item) is EncodedJSON else item
                    for key, item in zip(_KEYS, values, strict=True)
                }
            )
        parts.append(prefix)
        parts.append(text)
    parts.append("}")
    return "".join(parts).encode()


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()


# --- The link, added in the database ----------------------------------------------------
# An event's hash depends on the chain's head (``prev_hash``, ``seq``), known only once the
# head is locked. To lock, link and insert in one round trip, the database receives the
# canonical form cut around those two values and only joins the pieces:
#     canonical(fields) == head + prev_hash + middle + str(seq) + tail
# The definition stays here; SQL adds no byte of its own (``audit_append``).

_PREV_AT = _KEYS.index("prev_hash")
_SEQ_AT = _KEYS.index("seq")


def _value_text(value: Any) -> str:
    """One value as the definition writes it (the common types written directly)."""
    kind = type(value)
    if kind is str:
        return str(_string(value))
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is EncodedJSON:
        return str(value)
    return str(_details(_normalise(value)))  # the definition's own encoder


def canonical_around_link(fields: dict[str, Any]) -> tuple[str, str, str]:
    """The canonical form of an event whose ``prev_hash`` and ``seq`` are not known yet,
    as the three pieces around them (text, to be encoded as UTF-8 with them).

    Each piece is written field by field, as the definition writes the whole: a value,
    whatever it holds (a details object with its own "seq" key), stays inside its piece.
    """
    pieces = [
        "" if key in ("prev_hash", "seq") else _PREFIXES[index] + _value_text(fields[key])
        for index, key in enumerate(_KEYS)
    ]
    head = "".join(pieces[:_PREV_AT]) + _PREFIXES[_PREV_AT] + '"'
    middle = '"' + "".join(pieces[_PREV_AT + 1 : _SEQ_AT]) + _PREFIXES[_SEQ_AT]
    tail = "".join(pieces[_SEQ_AT + 1 :]) + "}"
    return head, middle, tail
