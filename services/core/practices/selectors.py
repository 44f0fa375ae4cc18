"""Reading practices."""

from __future__ import annotations

from core.practices.models import Practice


def practice_by_slug(slug: str) -> Practice | None:
    return Practice.objects.filter(slug=slug, is_active=True).first()
