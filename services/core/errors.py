"""Error responses: a clear page for people, a JSON error for machines. Never a bare 500.

Every error body has the same shape for API clients:
``{"error": {"code": "...", "message": "...", "status": 404}}``; ``message`` is in the
language the client asked for (French by default, English with Accept-Language: en).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def wants_json(request: HttpRequest) -> bool:
    path = request.path
    if path.startswith(("/api/", "/fhir/", "/healthz")):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(
    request: HttpRequest, status: int, code: str, message: str, **extra: Any
) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(
            {"error": {"code": code, "message": message, "status": status, **extra}},
            status=status,
        )
    return render(
        request,
        "core/error.html",
        {"status": status, "code": code, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return error_response(request, 413, "request_too_large", _("The request is too large."))
    if isinstance(exception, TooManyFieldsSent):
        return error_response(request, 400, "too_many_fields", _("The form has too many fields."))
    return error_response(request, 400, "bad_request", _("The request could not be understood."))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = str(exception) if exception and str(exception) else _("You may not do this.")
    return error_response(request, 403, "forbidden", message)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = _("This page does not exist.")
    if exception is not None and getattr(exception, "carnet_message", None):
        message = exception.carnet_message  # type: ignore[attr-defined]
    return error_response(request, 404, "not_found", message)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        500,
        "server_error",
        _("Something went wrong on our side. Nothing was saved; please try again."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        "csrf_failed",
        _("Your form expired or came from another site. Reload the page and try again."),
    )
