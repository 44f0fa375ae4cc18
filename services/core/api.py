"""Shared pieces of the REST API: the one error format, and practice-scoped views."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from core import idempotency
from core.access.policy import Actor
from core.access.services import AccessDenied
from core.practices.models import Practice

CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the shape {"error": {"code", "message", "status", "fields"?}}."""
    if isinstance(exc, AccessDenied):
        exc = exceptions.PermissionDenied(str(exc.decision.reason))
    if isinstance(exc, DjangoValidationError):
        # A service refused the input: same shape as a serializer's field errors.
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or _("Not found."))
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    status = response.status_code
    body: dict[str, Any] = {"code": CODES.get(status, "error"), "status": status}
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        body["message"] = _("Some fields are not valid.")
        body["fields"] = data
    elif isinstance(data, dict) and "detail" in data:
        body["message"] = str(data["detail"])
        code = getattr(data["detail"], "code", None)
        if code and code not in {"error", "invalid"}:
            body["code"] = code
    else:
        body["message"] = str(data)
    response.data = {"error": body}
    return response


class PracticeAPIMixin:
    """For API views on a practice's data.

    With a token, the practice is the token's. With a browser session, the client names
    it in the ``X-Carnet-Practice`` header (its slug). After ``initial``, ``self.actor``
    and ``self.practice`` are set.

    Writes may carry an ``Idempotency-Key`` header (``core/idempotency.py``): sent
    again with the same key, a write that was already committed is not executed twice;
    its stored answer is returned.
    """

    actor: Actor
    practice: Practice
    idempotency_key: str = ""

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        from core.accounts.models import ApiToken
        from core.practices.context import enter_practice
        from core.practices.selectors import practice_by_slug

        entered_roles = None
        if isinstance(request.auth, ApiToken):
            practice = request.auth.practice if request.auth.practice.is_active else None
            entered_roles = getattr(request.auth, "entered_roles", None)
        else:
            practice = practice_by_slug(request.META.get("HTTP_X_CARNET_PRACTICE", ""))
        self.actor = enter_practice(request._request, request.user, practice, entered_roles)
        self.practice = request._request.practice
        # Before the idempotency key: a replayed answer is handed out only past the gate.
        self.practice_gate()
        key = idempotency.key_of(request)
        if key:
            idempotency.claim(
                practice_id=self.practice.pk,
                person_id=request.user.pk,
                key=key,
                request_line=self._request_line(request),
            )
            self.idempotency_key = key  # not replayed: remember the answer if it succeeds

    def practice_gate(self) -> None:
        """A check of the practice-level policy that every method of the view needs
        (the team's API: ``PracticeAction.MANAGE_STAFF``). Patient data is checked by the
        selectors and services themselves, so by default there is none."""

    def idempotent_answer(self, data: Any) -> Any:
        """What is kept of a successful answer for a replay. A view whose answer holds a
        secret shown once (an invitation's link) leaves it out."""
        return data

    @staticmethod
    def _request_line(request: Any) -> str:
        return f"{request.method} {request.path}"[:300]

    def handle_exception(self, exc: Exception) -> Any:
        if isinstance(exc, idempotency.Replay):
            try:
                idempotency.authorize_replay(self.actor, exc.stored)
            except Exception as refusal:  # a refusal or a 404, answered as any error
                return super().handle_exception(refusal)  # type: ignore[misc]
            return Response(
                exc.stored.body, status=exc.stored.status, headers={"Idempotent-Replayed": "true"}
            )
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if self.idempotency_key and isinstance(response, Response) and response.status_code < 300:
            idempotency.remember(
                practice_id=self.practice.pk,
                person_id=request.user.pk,
                key=self.idempotency_key,
                request_line=self._request_line(request),
                status=response.status_code,
                body=self.idempotent_answer(response.data),
            )
        return response


class CarnetAPIView(APIView):
    """Base of every API view: DRF authenticates (token or verified session), so the
    site-wide login redirect does not apply."""

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        view = super().as_view(**initkwargs)
        view.login_required = False  # type: ignore[attr-defined]
        return view
