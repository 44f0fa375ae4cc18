"""API authentication: personal bearer tokens, or a browser session that passed 2FA."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from core.accounts.models import ApiToken
from core.accounts.services import api_token_enter
from core.audit.services import Outcome, record_event
from core.prepared import Bound

LAST_USED_PRECISION = timedelta(minutes=1)


def names_bearer_scheme(header: str) -> bool:
    """Whether an Authorization header names the bearer scheme: the token then says who
    calls, or the call is refused; a browser's session never counts for it."""
    scheme = header.split(maxsplit=1)[:1]
    return bool(scheme) and scheme[0].lower() == "bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not names_bearer_scheme(header):
            return None
        parts = header.split()
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        # The token's practice is entered in the same round trip (``enter_practice``
        # then finds it entered), with the view's first read if it names one.
        token = api_token_enter(parts[1], ahead=_view_reads_ahead(request))
        if token is None:
            record_event(
                "api.auth_failed",
                outcome=Outcome.FAILURE,
                actor_label=parts[1].split("_")[1][:16] if parts[1].count("_") >= 2 else "",
                reason="unknown, revoked or expired token",
            )
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired token."))
        now = timezone.now()
        # The last use is shown to the token's owner to the minute: writing it on every
        # call would make every read a write, and lock the token's row until the end of
        # the request, serialising the concurrent calls of one client.
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.person, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


def _view_reads_ahead(request: Any) -> tuple[Hashable, Sequence[Bound]] | None:
    """The first read of the view answering this call (``core.read_ahead``), if any."""
    context = getattr(request, "parser_context", None) or {}
    # ``ReadsAhead.reads_ahead``, looked up: isinstance of a protocol walks the class's
    # attributes on every call of the API.
    reads_ahead: Callable[..., tuple[Hashable, Sequence[Bound]] | None] | None = getattr(
        context.get("view"), "reads_ahead", None
    )
    if reads_ahead is None:
        return None
    return reads_ahead(**context.get("kwargs", {}))


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """A session counts only once the second factor was passed."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user = request._request.user
        if not getattr(user, "is_verified", lambda: False)():
            return None
        return result
