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


def canonical(fields: dict[str, Any]) -> bytes:
    data = {name: _normalise(fields[name]) for name in HASHED_FIELDS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(fields)).hexdigest()
