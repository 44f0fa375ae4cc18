"""A browser's session: the middleware that runs it (and skips it for a call carrying an
API token), the idle timeout, and refusal of any session that did not pass the second
factor."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import middleware as otp

from core.accounts.authentication import names_bearer_scheme
from core.audit.services import record_event
from core.middleware import channel_of

LAST_SEEN = "carnet_last_seen"

# Hooks that Django's handler calls around the view for the middleware it lists itself.
VIEW_HOOKS = ("process_view", "process_exception", "process_template_response")


def carries_api_token(request: HttpRequest) -> bool:
    """A call to the API or FHIR naming a bearer token: the token alone says who calls."""
    return channel_of(request.path) != "web" and names_bearer_scheme(
        request.META.get("HTTP_AUTHORIZATION", "")
    )


class BrowserSessionMiddleware:
    """The middleware of a browser's session (``settings.SESSION_MIDDLEWARE``), run in
    order for every request but one carrying an API token.

    A token call has no session: reading its cookie, the person it names, their second
    factor, their messages and idle time would be work for nothing on every call of the
    API's hottest reads, and a session must not count for a call naming a token anyway
    (DRF's token authentication decides, or refuses). Its person is anonymous until DRF
    sets the token's. The middleware listed here may hook the request and the response
    only: Django calls the view's hooks for the middleware in ``MIDDLEWARE`` alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        handler: Callable[[HttpRequest], Any] = get_response
        for path in reversed(settings.SESSION_MIDDLEWARE):
            middleware = import_string(path)
            hooks = [hook for hook in VIEW_HOOKS if hasattr(middleware, hook)]
            if hooks:
                raise ImproperlyConfigured(
                    f"{path} in SESSION_MIDDLEWARE has {', '.join(hooks)}: list it in"
                    " MIDDLEWARE, where Django calls it."
                )
            # As Django's handler does: an exception in one becomes its response there.
            handler = convert_exception_to_response(middleware(handler))
        self.with_session = handler

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_api_token(request):
            request.user = AnonymousUser()
            return self.get_response(request)
        return self.with_session(request)


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


class OTPMiddleware(otp.OTPMiddleware):
    """django-otp's middleware, finding the session's device among those read with the
    person (``core.accounts.backends.PersonBackend``) instead of in a query of its own.
    Those are the person's confirmed TOTP devices, the only kind Carnet installs: a
    session naming any other device is not verified, and its device is forgotten, as
    django-otp does for a device it cannot find. A session opened by another backend
    (no devices read with the person) is read by django-otp itself."""

    def _verify_user_sync(self, request: HttpRequest, user: Any) -> Any:
        read_with_person = getattr(user, "confirmed_devices", None)
        if read_with_person is None:
            return super()._verify_user_sync(request, user)
        self._init_user_fields(user)
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        device = None
        if persistent_id:
            device = read_with_person.get(self._normalize_persistent_id(persistent_id))
        user.otp_device = self._finalize_device(request, user, device)
        return user
