"""Request-wide middleware: request info for the audit trail, one transaction per
request, and the audit events appended just before it commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from core import read_ahead, requestinfo, tenancy
from core.audit import services as audit


def client_ip(request: HttpRequest) -> str:
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()  # the address our proxy saw
    return str(request.META.get("REMOTE_ADDR", ""))


def channel_of(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/fhir/"):
        return "fhir"
    return "web"


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request.META.get("HTTP_X_REQUEST_ID", "")[:64] or uuid.uuid4().hex
        token = requestinfo.set_current(
            requestinfo.RequestInfo(
                request_id=request_id,
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
                channel=channel_of(request.path),
            )
        )
        try:
            response = self.get_response(request)
        finally:
            requestinfo.reset(token)
        response["X-Request-ID"] = request_id
        return response


class TransactionAndAuditMiddleware:
    """Each request runs in one transaction (the practice context lives in it).

    Audit events recorded during the request are appended right before the commit, so
    they commit with the data they describe. When the request fails with a server
    error, its writes are rolled back and its audit events are still appended, in a
    transaction of their own: a denial or a failed attempt is never lost.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenancy.forget()
        with audit.buffered() as events:
            with (
                connection.execute_wrapper(tenancy.send_unsent),
                transaction.atomic(),
                read_ahead.request_scope(),
            ):
                user = getattr(request, "user", None)
                if user is not None and user.is_authenticated:
                    # Who acts is known to the database before the transaction's first
                    # statement (a person reads their own memberships); the practice is
                    # set by enter_practice, whose message sets the person too.
                    tenancy.activate_person(user.pk)
                response = self.get_response(request)
                failed = response.status_code >= 500
                if failed:
                    transaction.set_rollback(True)
                else:
                    audit.append(events)
            if failed:
                audit.append(events)
        return response


class ContentSecurityPolicyMiddleware:
    """Only this node's own scripts, styles and images run in a Carnet page: markup
    typed into the record can never load or execute anything (the templates escape it,
    and the browser refuses inline scripts anyway)."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
        " img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    # The API's browsable documentation (Swagger UI) starts with an inline script and
    # shows no patient data.
    DOCS_POLICY = POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = self.DOCS_POLICY if request.path.startswith("/api/docs/") else self.POLICY
        response.setdefault("Content-Security-Policy", policy)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        # Pages and API answers carry patient data: none may stay in the browser's cache
        # of a workstation that is lost, stolen or shared. Static files keep the caching
        # whitenoise gave them.
        response.setdefault("Cache-Control", "no-store")
        return response
