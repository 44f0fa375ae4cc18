"""Entering a practice: resolve it, check the person works there, scope the transaction.

Used by every practice page (``practice_view``) and every practice API view
(``core.api.PracticeAPIMixin``): after it, ``request.practice`` and ``request.actor`` are
set and row-level security shows only this practice's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from core import read_ahead, tenancy
from core.access.policy import Actor
from core.accounts.requests import AuthenticatedRequest
from core.accounts.selectors import actor_for, roles_statement
from core.audit.services import Outcome, record_event
from core.practices.models import Practice
from core.practices.selectors import entering_by_address
from core.prepared import Bound, fetch_together


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


def enter_practice_at(
    request: HttpRequest,
    person: Any,
    slug: str,
    ahead: tuple[Hashable, Sequence[Bound]] | None = None,
) -> Actor:
    """``enter_practice`` for the practice at an address, in one round trip: the tenant,
    the practice and the person's roles, then ``ahead``'s statements under the tenant
    (``core.read_ahead``: kept only if the person works there)."""
    ahead_key, ahead_statements = ahead or (None, ())
    tenancy.set_by_next_statement()  # the message sets the person, as the practice
    _person, _settings, practices, roles, *read = fetch_together(
        *entering_by_address(person.pk, slug), *ahead_statements
    )
    practice = practices[0] if practices else None
    if practice is None or not roles:
        # Refused by enter_practice (audited), the tenant set as for any practice.
        return enter_practice(request, person, practice)
    tenancy.adopt(practice.pk, person.pk, practice.care_team_mode)
    if ahead_statements:
        read_ahead.keep(ahead_key, read)
    return enter_practice(request, person, practice, frozenset(roles))


def practice_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Decorator for views under /p/<practice_slug>/. A view may name its first read
    (``reads_ahead``): it goes in the round trip that enters the practice."""
    reads_ahead = getattr(view, "reads_ahead", None)

    @wraps(view)
    def wrapper(
        request: HttpRequest, practice_slug: str, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        ahead = reads_ahead(**kwargs) if reads_ahead is not None else None
        enter_practice_at(request, request.user, practice_slug, ahead)
        return view(request, *args, **kwargs)

    return wrapper


def reading_ahead(
    reads: Callable[..., tuple[Hashable, Sequence[Bound]] | None],
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Name a practice page's first read, from its address's values (under
    ``practice_view``): it is sent in the round trip that enters the practice."""

    def mark(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        view.reads_ahead = reads  # type: ignore[attr-defined]
        return view

    return mark
