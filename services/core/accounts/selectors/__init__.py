"""Reading accounts: who is acting, in which practice, with which roles."""

from __future__ import annotations

from dataclasses import dataclass

from django_otp.plugins.otp_totp.models import TOTPDevice

from core.access.policy import Actor
from core.accounts import throttle
from core.accounts.models import Invitation, Membership, Person, Role
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


STAFF_STATUSES = ("active", "deactivated", "invited", "locked")


@dataclass(frozen=True)
class StaffMember:
    """One person of the practice as its administrator sees them."""

    person: Person
    roles: list[str]  # active roles in this practice
    former_roles: list[str]  # roles they held here and no longer hold
    has_second_factor: bool
    invitation: Invitation | None  # the link not used yet, if any

    @property
    def is_active(self) -> bool:
        return self.person.is_active and bool(self.roles)

    @property
    def is_enrolled(self) -> bool:
        return self.person.has_usable_password() and self.has_second_factor

    def is_locked(self, locked_accounts: frozenset[str]) -> bool:
        return self.person.is_locked() or self.person.username in locked_accounts

    def status(self, locked_accounts: frozenset[str]) -> str:
        """One word for the team's list (``STAFF_STATUSES``): a deactivated person first,
        then one who has not set up their account from the invitation, then a lock."""
        if not self.is_active:
            return "deactivated"
        if not self.person.has_usable_password():
            return "invited"
        if self.is_locked(locked_accounts):
            return "locked"
        return "active"

    def role_labels(self) -> list[str]:
        return [str(Role(role).label) for role in self.roles]


def staff_list(practice_id: int) -> list[StaffMember]:
    """Everyone who holds or held a role in the practice (three queries)."""
    memberships = list(
        Membership.objects.filter(practice_id=practice_id)
        .select_related("person")
        .order_by("person__full_name", "role")
    )
    people: dict[int, Person] = {m.person_id: m.person for m in memberships}
    enrolled = set(
        TOTPDevice.objects.filter(user_id__in=people, confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    pending: dict[int, Invitation] = {}
    for invitation in Invitation.objects.filter(
        person_id__in=people, practice_id=practice_id, used_at=None, revoked_at=None
    ).order_by("created_at"):
        pending[invitation.person_id] = invitation
    members = []
    for person_id, person in people.items():
        own = [m for m in memberships if m.person_id == person_id]
        members.append(
            StaffMember(
                person=person,
                roles=[m.role for m in own if m.is_active],
                former_roles=[m.role for m in own if not m.is_active],
                has_second_factor=person_id in enrolled,
                invitation=pending.get(person_id),
            )
        )
    return members


def staff_member(practice_id: int, person_id: int) -> StaffMember | None:
    return next((m for m in staff_list(practice_id) if m.person.pk == person_id), None)


def locked_usernames(usernames: list[str]) -> frozenset[str]:
    """Usernames refused from at least one address right now (core.accounts.throttle)."""
    return throttle.locked_usernames(usernames)


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


# Asked on every practice home and today's list: compiled once per connection.
PRACTITIONER_OF = Prepared(
    lambda person, practice: Membership.objects.filter(
        person_id=person,
        practice_id=practice,
        role=Role.PRACTITIONER,
        is_active=True,
        person__is_active=True,
    ).values_list("pk", flat=True)[:1]
)


def acts_as_practitioner(actor: Actor) -> bool:
    """``is_practitioner_of`` for the acting person in the practice they entered, from
    the roles read on entering it (active memberships; the person's account is active,
    or they could not act): no query."""
    return Role.PRACTITIONER in actor.roles


def is_practitioner_of(person_id: int, practice_id: int) -> bool:
    """An active practitioner of the practice, with an active account."""
    return PRACTITIONER_OF.first(person=person_id, practice=practice_id) is not None


def practitioner_count(practice_id: int) -> int:
    """How many people hold an active practitioner role in the practice (the
    cooperative's dues are counted by practitioner)."""
    return (
        Membership.objects.filter(practice_id=practice_id, role=Role.PRACTITIONER, is_active=True)
        .values("person")
        .distinct()
        .count()
    )


def holds_practitioner_role(person: Person, practice_id: int) -> bool:
    """An active practitioner role in the practice, whatever the account's state
    (``is_practitioner_of`` also wants an active account)."""
    return Role.PRACTITIONER in roles_in(person, practice_id)


# A practitioner of the practice, by id, for naming on an invoice: whoever holds or held
# the role there (compiled once).
PRACTITIONER = Prepared(
    lambda person, practice: Person.objects.filter(
        pk=person, memberships__practice_id=practice, memberships__role=Role.PRACTITIONER
    ).order_by("pk")[:1]
)


def practitioner_named(person_id: int, practice_id: int) -> Person | None:
    return PRACTITIONER.first(person=person_id, practice=practice_id)
