"""The patient view: the practitioner turns the screen to the patient.

While it is on, the session can show only this patient's record, in large type, with no
navigation: any other page of Carnet sends back to it. Leaving it needs the
practitioner's own code (set on their profile) or their authenticator's code, never the
password; wrong codes never lock the account, but after a few the session ends.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

SESSION_KEY = "carnet_patient_view"


def start(request: HttpRequest, practice_slug: str, patient_id: int) -> None:
    request.session[SESSION_KEY] = {"practice": practice_slug, "patient": patient_id}


def current(request: HttpRequest) -> dict | None:
    value = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    return value if isinstance(value, dict) else None


def wrong_code(request: HttpRequest) -> int:
    """Count one wrong code typed on the patient view; return the count so far."""
    value = dict(current(request) or {})
    value["wrong_codes"] = int(value.get("wrong_codes", 0)) + 1
    request.session[SESSION_KEY] = value
    return int(value["wrong_codes"])


def stop(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)


class PatientViewLockMiddleware:
    """Keeps a session in patient view on the patient-view pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        locked = current(request)
        if locked is not None and request.user.is_authenticated:
            home = reverse("records:patient-view", args=[locked["practice"]])
            allowed = (home, reverse("records:patient-view-exit", args=[locked["practice"]]))
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect(home)
        return self.get_response(request)
