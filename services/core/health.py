"""GET /healthz: is this process up and can it reach its database? (public, minimal)

GET /healthz/node: the node's state for its administrators (replication, backups, WAL
archive, node key: ``core.node_status``), refused to anyone else by the access policy
(``decide_node``)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import node_status
from core.access.policy import NodeAction
from core.access.services import require_node
from core.accounts.selectors import actor_for
from core.audit.services import record_event
from core.practices.context import AuthenticatedRequest


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = "ok"
    except DatabaseError:
        database = "unreachable"
    status = "ok" if database == "ok" else "error"
    return JsonResponse(
        {"status": status, "database": database, "service": settings.CARNET_SERVICE},
        status=200 if status == "ok" else 503,
    )


@require_GET
def healthz_node(request: AuthenticatedRequest) -> JsonResponse:
    actor = actor_for(request.user, None)
    require_node(actor, NodeAction.VIEW_STATUS, target="node:status")
    checks = node_status.node_status()
    record_event("node.status.read", actor=actor, target="node:status")
    return JsonResponse(
        {
            "status": node_status.worst(checks),
            "node": settings.CARNET_NODE_NAME,
            "checked_at": timezone.now().isoformat(timespec="seconds"),
            "checks": [
                {"name": c.name, "level": c.level, "message": c.message, "value": c.value}
                for c in checks
            ],
        }
    )
