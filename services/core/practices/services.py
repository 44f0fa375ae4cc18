"""Creating practices and their cooperative membership."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from core.audit.services import record_event
from core.practices.models import CooperativeMembership, Practice


@transaction.atomic
def practice_create(
    *,
    slug: str,
    name: str,
    city: str = "",
    postal_code: str = "",
    address: str = "",
    plan: str = CooperativeMembership.Plan.GROUP,
    actor: object = None,
) -> Practice:
    practice = Practice.objects.create(
        slug=slug, name=name, city=city, postal_code=postal_code, address=address
    )
    CooperativeMembership.objects.create(
        practice=practice,
        plan=plan,
        status=CooperativeMembership.Status.ACTIVE,
        joined_on=timezone.localdate(),
    )
    record_event("practice.create", actor=actor, practice_id=practice.pk, target=f"practice:{slug}")
    return practice
