"""Leaving with all one's data: each service exports and imports its own part of a
practice; the `carnet` command assembles the parts (so no service imports a sibling).

A part is a list of rows serialised by Django (primary keys kept, foreign keys to
reference data by natural key). Import is into a node that does not have these rows
yet (a fresh node, the usual case when a member moves): primary keys are kept, so the
audit trail, invoice numbers and references stay identical and verifiable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core import serializers
from django.db.models import Model

from core.access.models import (
    BreakGlass,
    LabelGrant,
    PracticeLabel,
    Restriction,
    SharingConsent,
    SharingRefusal,
)
from core.accounts.models import Membership, Person
from core.audit.models import AuditChain, AuditEvent
from core.practices.models import CooperativeMembership, Practice


def _exact(value: Any) -> Any:
    """JSON for values, exactly: microseconds kept (Django's JSON encoder drops them, and
    the audit trail's hashes cover them)."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (Decimal, uuid.UUID)):
        return str(value)
    raise TypeError(f"cannot export {type(value).__name__}")


def dump(rows: Iterable[Model]) -> list[dict[str, Any]]:
    python = serializers.serialize("python", rows, use_natural_foreign_keys=True)
    return list(json.loads(json.dumps(python, default=_exact)))


def load(data: list[dict[str, Any]]) -> int:
    count = 0
    for item in serializers.deserialize("python", data, handle_forward_references=True):
        item.save()
        count += 1
    return count


def members(practice: Practice) -> list[int]:
    return sorted(
        set(Membership.objects.filter(practice=practice).values_list("person_id", flat=True))
    )


def export_part(practice: Practice) -> list[dict[str, Any]]:
    """The kernel's part: the practice, its people and roles, the patients' choices,
    and the practice's audit chain (events and head)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    people = members(practice)
    rows: list[Model] = [practice, *CooperativeMembership.objects.filter(practice=practice)]
    rows += list(Person.objects.filter(pk__in=people))
    rows += list(TOTPDevice.objects.filter(user_id__in=people))
    rows += list(Membership.objects.filter(practice=practice))
    for model in (
        PracticeLabel,
        Restriction,
        LabelGrant,
        BreakGlass,
        SharingConsent,
        SharingRefusal,
    ):
        rows += list(model.objects.filter(practice=practice))
    rows += list(AuditEvent.objects.filter(chain=practice.pk).order_by("seq"))
    rows += list(AuditChain.objects.filter(chain=practice.pk))
    return dump(rows)


def import_part(data: list[dict[str, Any]]) -> int:
    return load(data)
