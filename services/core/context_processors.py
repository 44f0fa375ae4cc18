from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def carnet(request: HttpRequest) -> dict[str, Any]:
    return {
        "carnet_node_name": settings.CARNET_NODE_NAME,
        "current_practice": getattr(request, "practice", None),
        "idle_timeout_minutes": settings.CARNET_IDLE_TIMEOUT_MINUTES,
    }
