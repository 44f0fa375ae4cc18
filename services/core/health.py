"""GET /healthz: is this process up and can it reach its database?"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


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
