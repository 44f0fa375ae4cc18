"""Safe retries of API writes: the ``Idempotency-Key`` header.

A client that sent a write and got no answer (the connection was cut, a server process
was restarted, the database restarted) cannot know whether the write was stored. It
sends the same request again with the same key: if the first one was committed, the
stored answer is returned and nothing is written twice.

The answer is stored in the transaction of the write (one transaction per request), so
it exists exactly when the write does. Requests carrying the same key wait for each
other (a transaction-level advisory lock), so two copies sent at once are not both
executed.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.translation import gettext as _
from rest_framework import exceptions

from core.accounts.models import IdempotentRequest

HEADER = "Idempotency-Key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_LENGTH = 64


class Replay(Exception):  # not an error: the stored answer is sent again
    def __init__(self, stored: IdempotentRequest) -> None:
        super().__init__(stored.key)
        self.stored = stored


def key_of(request: Any) -> str:
    """The request's key, or "" when it has none (or is a read)."""
    if request.method not in UNSAFE_METHODS:
        return ""
    key = str(request.headers.get(HEADER, "")).strip()
    if len(key) > MAX_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: [_("The idempotency key is at most %(n)s characters.") % {"n": MAX_LENGTH}]}
        )
    return key


def claim(*, practice_id: int, person_id: int, key: str, request_line: str) -> None:
    """Wait for any request with the same key still running, then raise ``Replay`` with
    its answer if it was committed. Must run inside the request's transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency keys need the request's transaction")
    digest = hashlib.sha256(f"{practice_id}:{person_id}:{key}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)]
        )
    stored = IdempotentRequest.objects.filter(
        practice_id=practice_id, person_id=person_id, key=key
    ).first()
    if stored is None:
        return
    if stored.request != request_line:
        raise exceptions.ValidationError(
            {HEADER: [_("This idempotency key was already used for another request.")]}
        )
    raise Replay(stored)


def remember(
    *, practice_id: int, person_id: int, key: str, request_line: str, status: int, body: Any
) -> None:
    IdempotentRequest.objects.create(
        practice_id=practice_id,
        person_id=person_id,
        key=key,
        request=request_line[:300],
        status=status,
        body=None if body is None else json.loads(json.dumps(body, cls=DjangoJSONEncoder)),
    )
