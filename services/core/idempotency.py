"""Safe retries of API writes: the ``Idempotency-Key`` header.

A client that sent a write and got no answer (the connection was cut, a server process
was restarted, the database restarted) cannot know whether the write was stored. It
sends the same request again with the same key: if the first one was committed, the
stored answer is returned and nothing is written twice.

The answer is stored in the transaction of the write (one transaction per request), so
it exists exactly when the write does. Requests carrying the same key wait for each
other (a transaction-level advisory lock), so two copies sent at once are not both
executed.

A replay hands patient data out again, so it is a read like any other: for each patient
the write touched, the access policy decides again (the patient may have excluded the
person since) and the replay is audited on that patient's trail. Answers are kept
``CARNET_IDEMPOTENCY_DAYS`` (7) days; the node's worker purges older ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions

from core.access.policy import Actor, Category
from core.accounts.models import IdempotentRequest
from core.audit.services import patients_in_request, record_event

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
        patients=[list(pair) for pair in patients_in_request()],
    )


# How a patient's read is judged lives with the records (records/apps.py registers it):
# ``check(actor, patient_id, category)`` raises the policy's refusal (audited) or Http404.
PatientCheck = Callable[[Actor, int, Category], None]
_patient_checks: list[PatientCheck] = []


def register_patient_check(check: PatientCheck) -> None:
    _patient_checks.append(check)


def authorize_replay(actor: Actor, stored: IdempotentRequest) -> None:
    """Judge the stored answer as a new read of each patient it shows, then audit it.
    Raises the refusal; nothing is handed out unless every patient may be read."""
    patients = [(int(patient), _category(category)) for patient, category in stored.patients]
    if patients and not _patient_checks:
        raise RuntimeError("no patient check registered: a replay cannot be judged")
    for patient_id, category in patients:
        for check in _patient_checks:
            check(actor, patient_id, category)
    details = {"first_answered_at": stored.created_at.isoformat()}
    for patient_id, category in patients:
        record_event(
            "api.replay",
            actor=actor,
            practice_id=actor.practice_id,
            patient_id=patient_id,
            category=category.value,
            target=stored.request,
            details=details,
        )
    if not patients:  # an answer about no patient (a fee schedule, a deposit): still seen
        record_event(
            "api.replay",
            actor=actor,
            practice_id=actor.practice_id,
            target=stored.request,
            details=details,
        )


def _category(value: str) -> Category:
    try:
        return Category(value)
    except ValueError:  # an event without a category: at least the patient's identity
        return Category.IDENTITY


def purge(*, now: Any = None) -> int:
    """Forget answers older than ``CARNET_IDEMPOTENCY_DAYS`` (the current practice's,
    under row-level security). Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CARNET_IDEMPOTENCY_DAYS)
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
