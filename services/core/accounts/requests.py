"""The request of a logged-in person, for type checking views."""

from __future__ import annotations

from django.http import HttpRequest

from core.accounts.models import Person


class AuthenticatedRequest(HttpRequest):
    """A request by a logged-in person (for type checking views)."""

    user: Person
