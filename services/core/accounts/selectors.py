"""Reading accounts: who is acting, in which practice, with which roles."""

from __future__ import annotations

from core.access.policy import Actor
from core.accounts.models import Membership, Person, Role
from core.prepared import Bound, Prepared

ROLES = Prepared(
    lambda person, practice: Membership.objects.filter(
        person_id=person, practice_id=practice, is_active=True
    ).values_list("role", flat=True)
)


def roles_statement(person: Person, practice_id: int) -> Bound:
    return ROLES.bind(person=person.pk, practice=practice_id)


def roles_in(person: Person, practice_id: int) -> frozenset[str]:
    return frozenset(ROLES.all(person=person.pk, practice=practice_id))


def actor_for(
    person: Person, practice_id: int | None, roles: frozenset[str] | None = None
) -> Actor:
    """The acting person in a practice (``roles``, when the caller already read them)."""
    if roles is None:
        roles = roles_in(person, practice_id) if practice_id is not None else frozenset()
    return Actor(
        person_id=person.pk,
        practice_id=practice_id,
        roles=roles,
        is_node_admin=person.is_node_admin,
        is_cooperative_admin=person.is_cooperative_admin,
        label=person.username,
    )


def staff_of_practice(practice_id: int) -> list[Membership]:
    return list(
        Membership.objects.filter(practice_id=practice_id)
        .select_related("person")
        .order_by("person__full_name", "role")
    )


# The practice's clinicians: the people with an active practitioner role there and an
# active account (the care team, when it is every clinician of the practice).
CLINICIANS = Prepared(
    lambda practice: (
        Person.objects.filter(
            is_active=True,
            memberships__practice_id=practice,
            memberships__role=Role.PRACTITIONER,
            memberships__is_active=True,
        )
        .distinct()
        .order_by("full_name", "pk")
    )
)


def clinicians_statement(practice_id: int) -> Bound:
    """To run with others in one round trip; its rows are ``Person`` instances."""
    return CLINICIANS.bind(practice=practice_id)


def clinicians_of_practice(practice_id: int) -> list[Person]:
    return CLINICIANS.all(practice=practice_id)


def is_practitioner_of(person_id: int, practice_id: int) -> bool:
    """An active practitioner of the practice, with an active account."""
    return Membership.objects.filter(
        person_id=person_id,
        practice_id=practice_id,
        role=Role.PRACTITIONER,
        is_active=True,
        person__is_active=True,
    ).exists()
