from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from core import navigation


def carnet(request: HttpRequest) -> dict[str, Any]:
    practice = getattr(request, "practice", None)
    actor = getattr(request, "actor", None)
    return {
        "carnet_node_name": settings.CARNET_NODE_NAME,
        "current_practice": practice,
        "idle_timeout_minutes": settings.CARNET_IDLE_TIMEOUT_MINUTES,
        # The apps' pages, as registered (core.navigation): the menu offers only the
        # pages the policy opens to this person (no query).
        "menu_links": navigation.links(navigation.MENU, practice, actor),
    }
