"""Finding a calendar feed from the secret in its address."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from django.db.models import QuerySet

from agenda.models import Appointment, CalendarFeed, Status
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed this token opens, or None (unknown, wrong secret or revoked)."""
    key_id, _sep, secret = (token or "").partition(".")
    if not key_id or not secret or len(token) > 100:
        return None
    feed = CalendarFeed.objects.filter(key_id=key_id, revoked_at__isnull=True).first()
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if feed is None or not hmac.compare_digest(feed.secret_hash, digest):
        return None
    return feed


def feeds_of(actor: Actor) -> list[CalendarFeed]:
    """The actor's own live feeds (a practitioner's: the policy refuses anyone else,
    audited). The secrets are never shown again."""
    practice_id = actor.practice_id or 0
    require_practice(
        actor,
        PracticeAction.MANAGE_OWN_FEED,
        practice_id,
        target=f"person:{actor.person_id}",
        subject_id=actor.person_id,
    )
    # The table is exempt from row-level security (found by its token): scope it here.
    return list(
        CalendarFeed.objects.filter(
            practice_id=practice_id, practitioner_id=actor.person_id, revoked_at__isnull=True
        ).order_by("created_at", "pk")
    )


def busy_times(practitioner_id: int, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """A practitioner's appointments between two moments with nothing about the patient
    (a feed without names): time, type and site only. One query."""
    return (
        Appointment.objects.filter(
            practitioner_id=practitioner_id, starts_at__gte=start, starts_at__lt=end
        )
        .exclude(status=Status.CANCELLED)
        .select_related("type", "site")
        .only("pk", "starts_at", "ends_at", "status", "type__name", "site__name", "site__address")
        .order_by("starts_at", "pk")
    )
