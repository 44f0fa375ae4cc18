"""Login in two steps (password, then TOTP code or enrollment), logout, practice choice,
the invitation a new person opens (personal API tokens: ``core.practices.token_views``)."""

from __future__ import annotations

import math
import time

import segno
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from core.accounts import services
from core.accounts.forms import (
    CodeForm,
    InvitationAcceptForm,
    LoginForm,
    PasswordChangeForm,
    PinForm,
)
from core.accounts.middleware import LAST_SEEN
from core.accounts.models import Person
from core.accounts.requests import AuthenticatedRequest
from core.accounts.services import staff
from core.audit.services import record_event
from core.forms import attach_service_errors

PREAUTH = "carnet_preauth"
PREAUTH_SECONDS = 300


def _time(until: object) -> str:
    return formats.time_format(timezone.localtime(until), "H:i") if until else ""  # type: ignore[arg-type]


def _locked_message(until: object) -> str:
    # Said the same way whether or not the username exists (core.accounts.throttle).
    return _(
        "Too many failed attempts with this username from this workstation: try again "
        "after %(time)s, or ask your practice administrator to unlock it."
    ) % {"time": _time(until)}


def _account_locked_message(until: object) -> str:
    return _(
        "Too many wrong codes: this account is locked until %(time)s. "
        "Ask your practice administrator if you need access sooner."
    ) % {"time": _time(until)}


def _throttled_message(until: object) -> str:
    return _(
        "Too many failed attempts from this workstation: wait until %(time)s before trying again."
    ) % {"time": _time(until)}


def _too_soon_message(until: object) -> str:
    wait = 1
    if until is not None:
        wait = max(1, math.ceil((until - timezone.now()).total_seconds()))  # type: ignore[operator]
    return ngettext(
        "A wrong code was entered a moment ago: wait %(seconds)d second, "
        "then enter the code your app shows now.",
        "A wrong code was entered a moment ago: wait %(seconds)d seconds, "
        "then enter the code your app shows now.",
        wait,
    ) % {"seconds": wait}


LOGIN_ERRORS = {
    services.LoginError.BAD_CREDENTIALS: lambda r: _("Wrong username or password."),
    services.LoginError.INACTIVE: lambda r: _("This account is disabled."),
    services.LoginError.BAD_CODE: lambda r: _("Wrong code. Check your authenticator app's clock."),
    services.LoginError.LOCKED: lambda r: _locked_message(r.locked_until),
    services.LoginError.ACCOUNT_LOCKED: lambda r: _account_locked_message(r.locked_until),
    services.LoginError.THROTTLED: lambda r: _throttled_message(r.locked_until),
    services.LoginError.TOO_SOON: lambda r: _too_soon_message(r.locked_until),
}


@login_not_required
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("accounts:home")
    form = LoginForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = services.login_check_password(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
            if result.person is not None:
                request.session.cycle_key()
                request.session[PREAUTH] = {"person": result.person.pk, "at": time.time()}
                return redirect("accounts:second-factor")
            form.add_error(None, LOGIN_ERRORS[result.error](result))  # type: ignore[index]
            if result.error == services.LoginError.THROTTLED:
                return _too_many(request, "accounts/login.html", {"form": form}, result)
        status = 400
    return render(request, "accounts/login.html", {"form": form}, status=status)


def _too_many(
    request: HttpRequest, template: str, context: dict[str, object], result: object
) -> HttpResponse:
    """429 with the wait in seconds, as HTTP clients expect (Retry-After)."""
    until = getattr(result, "locked_until", None)
    response = render(request, template, context, status=429)
    if until is not None:
        wait = max(1, math.ceil((until - timezone.now()).total_seconds()))
        response["Retry-After"] = str(wait)
    return response


def _preauth_person(request: HttpRequest) -> Person | None:
    data = request.session.get(PREAUTH)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > PREAUTH_SECONDS:
        return None
    return Person.objects.filter(pk=int(data.get("person", 0)), is_active=True).first()


@login_not_required
@require_http_methods(["GET", "POST"])
def second_factor_view(request: HttpRequest) -> HttpResponse:
    """Enter the code; a person without a confirmed device enrolls here first."""
    person = _preauth_person(request)
    if person is None:
        messages.info(request, _("Please log in again."))
        return redirect("accounts:login")
    device = services.confirmed_device(person)
    enrolling = device is None
    if device is None:
        device = services.enrollment_device(person)
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            result = services.login_check_code(
                person=person, code=form.cleaned_data["code"], device=device
            )
            if result.person is not None:
                del request.session[PREAUTH]
                login(request, person, backend="core.accounts.backends.PersonBackend")
                otp_login(request, device)
                request.session[LAST_SEEN] = time.time()
                return redirect("accounts:home")
            if result.error == services.LoginError.ACCOUNT_LOCKED:
                request.session.pop(PREAUTH, None)
            form.add_error(None, LOGIN_ERRORS[result.error](result))  # type: ignore[index]
            if result.error == services.LoginError.THROTTLED:
                status = 429
    context: dict[str, object] = {"form": form, "enrolling": enrolling, "person": person}
    if enrolling:
        uri = device.config_url
        context["qr_svg"] = segno.make(uri, error="m").svg_inline(scale=5, dark="#111")
        context["secret"] = _base32_secret(device)
    return render(request, "accounts/second_factor.html", context, status=status)


def _base32_secret(device: object) -> str:
    import base64

    raw = base64.b32encode(device.bin_key).decode()  # type: ignore[attr-defined]
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    record_event("logout", actor=request.user)
    logout(request)
    messages.success(request, _("You are logged out."))
    return redirect("accounts:login")


def home_view(request: AuthenticatedRequest) -> HttpResponse:
    """After login: go straight to one's practice, or choose among several."""
    person = request.user
    memberships = services.memberships_of(person)
    practices = {m.practice.pk: m.practice for m in memberships}
    if len(practices) == 1 and not (person.is_node_admin or person.is_cooperative_admin):
        return redirect("practices:home", practice_slug=next(iter(practices.values())).slug)
    return render(
        request, "accounts/home.html", {"practices": list(practices.values()), "person": person}
    )


@require_http_methods(["GET", "POST"])
def profile_view(request: AuthenticatedRequest) -> HttpResponse:
    """The person's own settings: their password, and the code that leaves the patient
    view. Each form is sent on its own (``form`` says which)."""
    person = request.user
    which = request.POST.get("form", "") if request.method == "POST" else ""
    pin_form = PinForm(request.POST if which == "pin" else None)
    password_form = PasswordChangeForm(request.POST if which == "password" else None)
    if which == "pin" and pin_form.is_valid():
        try:
            services.patient_view_pin_set(person=person, **pin_form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(pin_form, error)
        else:
            messages.success(request, _("Your code for the patient view is saved."))
            return redirect("accounts:profile")
    if which == "password" and password_form.is_valid():
        try:
            services.password_change(person=person, **password_form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(password_form, error)
        else:
            update_session_auth_hash(request, person)  # this session stays open
            messages.success(request, _("Your password is changed."))
            return redirect("accounts:profile")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "accounts/profile.html",
        {
            "form": pin_form,
            "password_form": password_form,
            "has_pin": bool(person.patient_view_pin),
            "person": person,
        },
        status=status,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, secret: str) -> HttpResponse:
    """Set a password and enroll the second factor, from the link on the invitation."""
    try:
        invitation = staff.invitation_open(secret)
    except ValidationError as error:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"message": " ".join(error.messages)},
            status=410 if error.code in {"used", "expired"} else 404,
        )
    person: Person = invitation.person
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            staff.invitation_accept(secret=secret, **form.cleaned_data)
        except ValidationError as error:
            attach_service_errors(form, error)
        else:
            messages.success(
                request, _("Your account is ready: log in with your username and password.")
            )
            return redirect("accounts:login")
    device = staff.invitation_device(invitation)
    context = {
        "form": form,
        "person": person,
        "practice": invitation.practice,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#111"),
        "secret": _base32_secret(device),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/invitation_accept.html", context, status=status)
