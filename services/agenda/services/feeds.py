"""A practitioner's calendar feed behind a secret address: created by the practitioner
for themselves, shown once, revoked at any time."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from agenda.models import CalendarFeed
from agenda.services.common import practice_of
from core.access.policy import Actor, PracticeAction
from core.access.services import require_practice
from core.audit.services import record_event


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_create(*, actor: Actor, with_names: bool = False) -> tuple[CalendarFeed, str]:
    """A new feed for the actor's own agenda; its token (``key.secret``) is returned once.
    An earlier feed keeps working until revoked."""
    practice_id = practice_of(actor)
    require_practice(
        actor,
        PracticeAction.MANAGE_OWN_FEED,
        practice_id,
        target=f"person:{actor.person_id}",
        subject_id=actor.person_id,
    )
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        practice_id=practice_id,
        practitioner_id=actor.person_id,
        key_id=key_id,
        secret_hash=_hash(secret),
        with_names=with_names,
    )
    record_event(
        "agenda.feed_created",
        actor=actor,
        target=f"feed:{feed.pk}",
        details={"with_names": with_names},
    )
    return feed, f"{key_id}.{secret}"


def feed_revoke(*, actor: Actor, feed_id: int) -> None:
    practice_id = practice_of(actor)
    feed = CalendarFeed.objects.filter(
        pk=feed_id, practice_id=practice_id, revoked_at__isnull=True
    ).first()
    if feed is None:
        raise ValidationError(_("No such calendar feed."), code="unknown")
    require_practice(
        actor,
        PracticeAction.MANAGE_OWN_FEED,
        practice_id,
        target=f"feed:{feed_id}",
        subject_id=feed.practitioner_id,
    )
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    record_event("agenda.feed_revoked", actor=actor, target=f"feed:{feed.pk}")


def feed_fetched(*, feed: CalendarFeed, with_names: bool) -> None:
    """A calendar program read the feed: when, and an event on the practice's trail
    (each patient named in it is audited by the selectors as ``appointment.read``)."""
    now = timezone.now()
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    record_event(
        "agenda.feed_read",
        actor=feed.practitioner,
        practice_id=feed.practice_id,
        target=f"feed:{feed.pk}",
        details={"with_names": with_names},
    )
