"""Entering a practice: resolve it, check the person works there, scope the transaction.

Used by every practice page (``practice_view``) and every practice API view
(``core.api.PracticeAPIMixin``): after it, ``request.practice`` and ``request.actor`` are
set and row-level security shows only this practice's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from core import tenancy
from core.access.policy import Actor
from core.accounts.requests import AuthenticatedRequest
from core.accounts.selectors import actor_for, roles_statement
from core.audit.services import Outcome, record_event
from core.practices.models import Practice
from core.practices.selectors import practice_by_slug


class PracticeRequest(AuthenticatedRequest):
    """A request inside a practice, after ``enter_practice``."""

    practice: Practice
    actor: Actor


class UnknownPractice(Http404):
    carnet_message = ""

    def __init__(self) -> None:
        message = _("Unknown practice: check the address.")
        super().__init__(message)
        self.carnet_message = message


def enter_practice(
    request: HttpRequest,
    person: Any,
    practice: Practice | None,
    entered_roles: frozenset[str] | None = None,
) -> Actor:
    """Scope the current transaction to the practice, or refuse (audited).

    ``entered_roles``: the person's roles, read when the practice was entered already
    (an API token's round trip, ``api_token_enter``); used only if the tenant in place
    is exactly this practice and person."""
    if practice is None:
        raise UnknownPractice()
    entered = tenancy.Tenant(practice.pk, person.pk, practice.care_team_mode)
    if entered_roles is not None and tenancy.current() == entered:
        roles: Collection[str] = entered_roles
    else:
        # Activate first: the person's memberships are readable once their id is set
        # (both in one round trip). The practice's care-team setting goes with the
        # tenant: the policy's facts need it on every read of a record, and the row is
        # at hand.
        (roles,) = tenancy.activate_then(
            practice.pk,
            person.pk,
            roles_statement(person, practice.pk),
            care_team_mode=practice.care_team_mode,
        )
    actor = actor_for(person, practice.pk, frozenset(roles))
    if not actor.roles:
        record_event(
            "access.denied",
            outcome=Outcome.DENIED,
            actor=person,
            practice_id=practice.pk,
            reason="not a member of this practice",
            target=f"practice:{practice.slug}",
        )
        raise PermissionDenied(_("You do not work in this practice."))
    request.practice = practice  # type: ignore[attr-defined]
    request.actor = actor  # type: ignore[attr-defined]
    return actor


def practice_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Decorator for views under /p/<practice_slug>/."""

    @wraps(view)
    def wrapper(
        request: HttpRequest, practice_slug: str, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        enter_practice(request, request.user, practice_by_slug(practice_slug))
        return view(request, *args, **kwargs)

    return wrapper
