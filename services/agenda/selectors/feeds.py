"""Finding a calendar feed from the secret in its address."""

from __future__ import annotations

import hashlib
import hmac

from agenda.models import CalendarFeed


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
