"""Reading practices."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from core import tenancy
from core.accounts.models import Invitation, Membership, Person
from core.practices.models import (
    ApplicationPractitioner,
    CareTeamMode,
    CooperativeMembership,
    MembershipApplication,
    Practice,
)
from core.prepared import Bound, Prepared, PreparedSQL

CARE_TEAM_MODE = Prepared(
    lambda practice: Practice.objects.filter(pk=practice).values_list("care_team_mode", flat=True)
)


# Every page of a practice reads it by its address: compiled once per connection.
PRACTICE_BY_SLUG = Prepared(
    lambda slug: Practice.objects.filter(slug=slug, is_active=True).order_by("pk")[:1], slug=str
)


def practice_by_slug(slug: str) -> Practice | None:
    found: Practice | None = PRACTICE_BY_SLUG.first(slug=slug)
    return found


# Entering a practice by its address, in one round trip (``core.practices.context``):
# the person set first, in a statement of its own (their memberships are readable once
# their id is set, and a statement's values are computed before it sets any); the tenant
# set to the practice only where the person works; the practice; the person's roles there.
_SET_PERSON = PreparedSQL("SELECT set_config('carnet.person_id', %(person)s, true)")


@functools.cache
def _set_tenant_at_address() -> PreparedSQL:
    """(Built on first use, once the models are known.)"""
    practice, membership = Practice._meta.db_table, Membership._meta.db_table
    return PreparedSQL(
        "SELECT set_config('carnet.practice_id', COALESCE(("  # noqa: S608
        f' SELECT pr.id::text FROM "{practice}" pr JOIN "{membership}" m'
        " ON m.practice_id = pr.id AND m.person_id = %(person)s::bigint AND m.is_active"
        " WHERE pr.slug = %(slug)s AND pr.is_active LIMIT 1), ''), true),"
        " set_config('carnet.person_id', %(person)s::text, true)"  # nosec B608 - fixed names
    )


ROLES_AT_ADDRESS = Prepared(
    lambda person, slug: Membership.objects.filter(
        person_id=person, practice__slug=slug, practice__is_active=True, is_active=True
    ).values_list("role", flat=True),
    slug=str,
)


def entering_by_address(person_id: int, slug: str) -> list[Bound]:
    """The statements entering the practice at ``slug`` (results: the person's setting,
    the tenant's settings, the practice or nothing, the person's roles there); more
    statements after them run under the tenant they set."""
    return [
        _SET_PERSON.bind(person=str(person_id)),
        _set_tenant_at_address().bind(person=str(person_id), slug=slug),
        PRACTICE_BY_SLUG.bind(slug=slug),
        ROLES_AT_ADDRESS.bind(person=person_id, slug=slug),
    ]


def country_of(practice_id: int) -> str:
    """The practice's country (ISO code, e.g. "FR" or "BE"): it decides how it bills."""
    country = Practice.objects.filter(pk=practice_id).values_list("country", flat=True).first()
    return str(country or "FR").upper()


def care_team_mode_of(practice_id: int) -> str:
    """The practice's care-team setting (``CareTeamMode``).

    Entering a practice reads the practice row and keeps the setting with the tenant
    (``tenancy.activate_then``), so on pages and in the API this costs no query. Other
    callers (commands, imports, jobs) read it once per transaction and tenant."""
    tenant = tenancy.current()
    if tenant is not None and tenant.practice_id == practice_id and tenant.care_team_mode:
        return tenant.care_team_mode
    mode = CARE_TEAM_MODE.first(practice=practice_id) or CareTeamMode.NAMED
    tenancy.remember_care_team_mode(practice_id, mode)
    return str(mode)


def practice_team_of(practice_id: int) -> bool:
    """Is every practitioner of the practice in every patient's care team?"""
    return care_team_mode_of(practice_id) == CareTeamMode.PRACTICE


@dataclass(frozen=True)
class MemberPractice:
    """A member practice as the cooperative's administrators see it: who, where, on which
    plan and with how many shares. Nothing about its patients, not even how many."""

    practice_id: int
    slug: str
    name: str
    city: str
    postal_code: str
    node: str
    plan: str
    plan_label: str
    status: str
    status_label: str
    shares: int
    joined_on: date | None
    left_on: date | None


def cooperative_members() -> list[MemberPractice]:
    """Every practice of this node with its membership of the cooperative, by name (one
    query; ``practices_cooperativemembership`` is readable without a practice context,
    see core/practices/apps.py). The callers check the policy first
    (``core.access.services.require_cooperative``)."""
    node = str(settings.CARNET_NODE_NAME)
    rows = CooperativeMembership.objects.select_related("practice").order_by(
        "practice__name", "practice__pk"
    )
    return [
        MemberPractice(
            practice_id=row.practice_id,
            slug=row.practice.slug,
            name=row.practice.name,
            city=row.practice.city,
            postal_code=row.practice.postal_code,
            node=node,
            plan=row.plan,
            plan_label=str(row.get_plan_display()),
            status=row.status,
            status_label=str(row.get_status_display()),
            shares=row.shares,
            joined_on=row.joined_on,
            left_on=row.left_on,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class CooperativeSummary:
    """Counts over the member practices, for the foot of the list."""

    practices: int
    active: int
    shares: int  # held by the practices that have not left


def cooperative_summary(members: list[MemberPractice]) -> CooperativeSummary:
    return CooperativeSummary(
        practices=len(members),
        active=sum(1 for m in members if m.status == CooperativeMembership.Status.ACTIVE),
        shares=sum(m.shares for m in members if m.status != CooperativeMembership.Status.LEFT),
    )


def applications() -> list[MembershipApplication]:
    """Every application to join, pending ones first, newest first (the callers check
    the policy first: ``CooperativeAction.REVIEW_APPLICATIONS``)."""
    rows = MembershipApplication.objects.select_related("practice").prefetch_related(
        "practitioners"
    )
    pending = MembershipApplication.Status.PENDING
    return sorted(rows, key=lambda a: (a.status != pending, -a.submitted_at.timestamp()))


def application_get(application_id: int) -> MembershipApplication | None:
    return (
        MembershipApplication.objects.select_related("practice", "decided_by")
        .prefetch_related("practitioners")
        .filter(pk=application_id)
        .first()
    )


def membership_of(practice_id: int) -> CooperativeMembership | None:
    """The practice's membership of the cooperative: plan, status, shares."""
    return (
        CooperativeMembership.objects.select_related("practice")
        .filter(practice_id=practice_id)
        .first()
    )


# What stands for a practice in the cooperative: an application not refused (pending, or
# approved while its practice has not left), or a member practice that has not left.
_STANDING_APPLICATIONS = (
    MembershipApplication.Status.PENDING,
    MembershipApplication.Status.APPROVED,
)
_STANDING_MEMBERS = (
    CooperativeMembership.Status.PENDING,
    CooperativeMembership.Status.ACTIVE,
    CooperativeMembership.Status.SUSPENDED,
)


def folded_name(name: str) -> str:
    """A practice's name as compared for sameness: no accents, no case, the words only
    ("Maison de Santé  des Tilleuls" and "maison-de-sante des tilleuls" are one name)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.findall(r"\w+", plain.casefold()))


def folded_postal_code(code: str) -> str:
    return "".join(code.split()).upper()


def _standing_applications() -> QuerySet[MembershipApplication]:
    return MembershipApplication.objects.filter(status__in=_STANDING_APPLICATIONS).exclude(
        status=MembershipApplication.Status.APPROVED,
        practice__membership__status=CooperativeMembership.Status.LEFT,
    )


def practice_already_in(name: str, postal_code: str) -> bool:
    """Has a practice of this name, at this postal code, a pending or approved
    application to join, or is it a member practice already? A refused application, or
    a practice that left, does not count. Names and postal codes only: no patient data,
    readable without a practice context (core/practices/apps.py)."""
    wanted = (folded_name(name), folded_postal_code(postal_code))
    if not wanted[0]:
        return False
    applied = _standing_applications().values_list("practice_name", "postal_code")
    members = Practice.objects.filter(membership__status__in=_STANDING_MEMBERS).values_list(
        "name", "postal_code"
    )
    return any(
        (folded_name(row_name), folded_postal_code(row_code)) == wanted
        for row_name, row_code in (*applied, *members)
    )


def identifiers_already_in(identifiers: Collection[str]) -> set[str]:
    """Which of these practitioners' numbers (RPPS, Assurance Maladie or INAMI, as
    digits) are named on a pending or approved application, or held by an active member
    of a member practice.

    A person's memberships are row-level secured: each person found by number (usually
    none) is read under their own person context, as at their login, then the caller's
    context is put back. Only practice ids are read, never a patient's data."""
    wanted = {number for number in identifiers if number}
    if not wanted:
        return set()
    found = set(
        ApplicationPractitioner.objects.filter(
            identifier__in=wanted, application__in=_standing_applications()
        ).values_list("identifier", flat=True)
    )
    people = Person.objects.filter(
        Q(rpps__in=wanted) | Q(inami__in=wanted) | Q(am_number__in=wanted)
    ).values_list("pk", "rpps", "inami", "am_number")
    members = set(
        CooperativeMembership.objects.filter(status__in=_STANDING_MEMBERS).values_list(
            "practice_id", flat=True
        )
    )
    previous = tenancy.current()
    with transaction.atomic():
        try:
            for person_id, *numbers in people:
                tenancy.activate(None, person_id)
                practices = set(
                    Membership.objects.filter(person_id=person_id, is_active=True).values_list(
                        "practice_id", flat=True
                    )
                )
                if practices & members:
                    found.update(set(numbers) & wanted)
        finally:
            if previous is not None:
                tenancy.activate_then(
                    previous.practice_id,
                    previous.person_id,
                    care_team_mode=previous.care_team_mode,
                )
            else:
                tenancy.activate(None)
                tenancy.forget()
    return found


def first_admin_of(practice_id: int) -> int | None:
    """The practice's first administrator: the person of its first invitation, made when
    the cooperative approved its application (invitations are readable before their
    person logs in, core/accounts/apps.py; they hold only a hash of the link)."""
    person_id: int | None = (
        Invitation.objects.filter(practice_id=practice_id)
        .order_by("pk")
        .values_list("person_id", flat=True)
        .first()
    )
    return person_id


def latest_invitation_of(practice_id: int, person_id: int) -> Invitation | None:
    """The person's latest invitation to the practice (the one a re-send made)."""
    return (
        Invitation.objects.select_related("person")
        .filter(practice_id=practice_id, person_id=person_id)
        .order_by("-pk")
        .first()
    )
