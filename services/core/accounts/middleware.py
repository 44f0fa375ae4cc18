"""Idle timeout, and refusal of any session that did not pass the second factor."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.audit.services import record_event

LAST_SEEN = "carnet_last_seen"


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN, now)
            idle = now - float(last_seen) > settings.CARNET_IDLE_TIMEOUT_MINUTES * 60
            verified = getattr(user, "is_verified", lambda: False)()
            if idle or not verified:
                record_event(
                    "logout.idle" if idle else "logout.unverified",
                    actor=user,
                    reason="session ended",
                )
                logout(request)
                if idle:
                    messages.info(request, _("You were logged out after a period of inactivity."))
            elif now - float(last_seen) > 30:
                # Write the session only every 30 s, not on every request.
                request.session[LAST_SEEN] = now
        return self.get_response(request)
