"""Writing to the audit trail.

``record_event`` is the only way in. Inside a web or API request the events are kept in
a buffer and appended right before the request's transaction commits, so a chain head
is locked only for the instant of the append, never for the whole request. Outside a
request (commands, jobs) events are appended at once, in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from core import requestinfo, tenancy
from core.audit.chain import canonical_around_link
from core.audit.models import AuditEvent

NODE_CHAIN = 0


class Outcome:
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


@dataclass
class PendingEvent:
    fields: dict[str, Any] = field(default_factory=dict)


_buffer: ContextVar[list[PendingEvent] | None] = ContextVar("carnet_audit_buffer", default=None)


def record_event(
    action: str,
    *,
    outcome: str = Outcome.SUCCESS,
    actor: Any = None,
    actor_label: str = "",
    practice_id: int | None = None,
    patient_id: int | None = None,
    category: str = "",
    purpose: str = "",
    reason: str = "",
    target: str = "",
    details: dict[str, Any] | None = None,
    node_chain: bool = False,
) -> None:
    """Record one event. ``practice_id`` defaults to the current practice context;
    ``node_chain`` puts it on the node's chain (the cooperative's trail) whatever the
    context, with no practice."""
    info = requestinfo.current()
    if node_chain:
        practice_id = None
    elif practice_id is None:
        practice_id = tenancy.current_practice_id()
    # ``actor`` is a Person, or a policy Actor (person_id + label), or None.
    actor_id = getattr(actor, "person_id", None) or getattr(actor, "pk", None)
    if not actor_label and actor is not None:
        actor_label = getattr(actor, "label", "") or getattr(actor, "username", "") or str(actor)
    event = PendingEvent(
        {
            "chain": practice_id or NODE_CHAIN,
            "occurred_at": timezone.now(),
            "practice_id": practice_id,
            "actor_id": actor_id,
            "actor_label": actor_label[:200],
            "action": action,
            "outcome": outcome,
            "patient_id": patient_id,
            "category": category,
            "purpose": purpose,
            "reason": reason,
            "target": target[:200],
            "ip": info.ip[:64],
            "user_agent": info.user_agent[:300],
            "request_id": info.request_id,
            "channel": info.channel,
            "details": details or {},
        }
    )
    pending = _buffer.get()
    if pending is not None:
        pending.append(event)
    else:
        append([event])


def patients_in_request() -> list[tuple[int, str]]:
    """The (patient, category) pairs of the successful events this request has recorded
    so far, in order, once each ([] outside a request's buffer)."""
    seen: dict[tuple[int, str], None] = {}
    for event in _buffer.get() or []:
        fields = event.fields
        if fields["patient_id"] is not None and fields["outcome"] == Outcome.SUCCESS:
            seen[(int(fields["patient_id"]), str(fields["category"]))] = None
    return list(seen)


@contextmanager
def buffered() -> Iterator[list[PendingEvent]]:
    """Collect events recorded in the block; the caller appends them with ``append``."""
    events: list[PendingEvent] = []
    token = _buffer.set(events)
    try:
        yield events
    finally:
        _buffer.reset(token)


def append(events: list[PendingEvent]) -> None:
    """Chain and insert events in one round trip (``audit_append``), one chain at a time
    in a fixed order (no deadlocks). No savepoint inside the request's transaction: if
    the append fails, the whole request fails with it."""
    if not events:
        return
    payload = []
    for event in sorted(events, key=lambda event: event.fields["chain"]):  # stable
        head, middle, tail = canonical_around_link(event.fields)
        row = {column: event.fields[column] for column in _ROW_COLUMNS}
        row["occurred_at"] = row["occurred_at"].isoformat()
        payload.append({"row": row, "head": head, "middle": middle, "tail": tail})
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_append(%s::jsonb)", [json.dumps(payload, ensure_ascii=False)])


# What the caller gives of a row; the chain link (seq, prev_hash, hash) is the database's.
_ROW_COLUMNS = [
    str(f.column)
    for f in AuditEvent._meta.concrete_fields
    if not f.primary_key and f.column not in {"seq", "prev_hash", "hash"}
]
