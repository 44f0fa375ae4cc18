from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core import source
from core.access.policy import PracticeAction, decide_practice


def carnet(request: HttpRequest) -> dict[str, Any]:
    practice = getattr(request, "practice", None)
    actor = getattr(request, "actor", None)
    return {
        "carnet_node_name": settings.CARNET_NODE_NAME,
        "carnet_version": source.version(),
        "carnet_source_url": source.source_url(),
        "current_practice": practice,
        "idle_timeout_minutes": settings.CARNET_IDLE_TIMEOUT_MINUTES,
        # The menu offers only the pages the policy opens to this person (no query).
        "menu_shares": practice is not None
        and actor is not None
        and decide_practice(actor, PracticeAction.VIEW_EXCHANGE, practice.pk).allowed,
    }
