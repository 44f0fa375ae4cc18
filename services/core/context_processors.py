from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core import navigation, source
from core.access.policy import Actor, PracticeAction, decide_practice


class PracticeMay:
    """What the policy lets the person do in the practice, for templates:
    ``{% if may.merge_records %}`` asks ``decide_practice`` for that ``PracticeAction``.
    Templates show a button from it and never test role names. A name that is no
    ``PracticeAction`` raises (a typo must not hide a button silently): ``LookupError``
    is not one of the errors Django's templates swallow."""

    def __init__(self, actor: Actor | None, practice_id: int | None) -> None:
        self.actor = actor
        self.practice_id = practice_id

    def __getitem__(self, name: str) -> bool:
        try:
            action = PracticeAction(name)
        except ValueError:
            raise LookupError(f"no practice action {name!r}") from None
        if self.actor is None or self.practice_id is None:
            return False
        return decide_practice(self.actor, action, self.practice_id).allowed


def carnet(request: HttpRequest) -> dict[str, Any]:
    practice = getattr(request, "practice", None)
    actor = getattr(request, "actor", None)
    return {
        "carnet_node_name": settings.CARNET_NODE_NAME,
        "carnet_version": source.version(),
        "carnet_source_url": source.source_url(),
        "current_practice": practice,
        "idle_timeout_minutes": settings.CARNET_IDLE_TIMEOUT_MINUTES,
        # The apps' pages, as registered (core.navigation): the menu offers only the
        # pages the policy opens to this person (no query).
        "menu_links": navigation.links(navigation.MENU, practice, actor),
        "may": PracticeMay(actor, practice.pk if practice is not None else None),
    }
