"""Provisioning a new member practice with its people: what ``carnet onboard_practice``
does from the command line and what approving an application does from the cooperative's
pages (``services.applications``). One service, so the two cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core import tenancy
from core.accounts import services as accounts
from core.accounts.models import Person
from core.practices.models import CooperativeMembership, Practice
from core.practices.services import practice_create


@dataclass(frozen=True)
class NewPerson:
    """Someone to create in the new practice, with their roles there."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    email: str = ""
    profession: str = ""
    rpps: str = ""


@dataclass(frozen=True)
class NewPractice:
    slug: str
    name: str
    address: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"
    phone: str = ""
    plan: str = CooperativeMembership.Plan.GROUP
    shares: int = 1


@dataclass(frozen=True)
class Onboarded:
    practice: Practice
    people: list[Person] = field(default_factory=list)  # in the order they were given


@transaction.atomic
def practice_onboard(
    *,
    practice: NewPractice,
    people: Sequence[NewPerson],
    actor: object = None,
    first_password: str | None = None,
) -> Onboarded:
    """Create the practice, its membership of the cooperative and its people, or nothing
    (a slug or a username taken refuses the whole). ``first_password`` is the first
    person's one-time password (the command line's way); without it every account is
    made without a usable password, to be set from an invitation."""
    if Practice.objects.filter(slug=practice.slug).exists():
        raise ValidationError({"slug": _("This practice address is already taken.")})
    usernames = [person.username.strip().lower() for person in people]
    taken = Person.objects.filter(username__in=usernames).values_list("username", flat=True)
    if taken or len(set(usernames)) != len(usernames):
        raise ValidationError(
            {"username": _("This username is already taken: choose another one.")}
        )
    created = practice_create(
        slug=practice.slug,
        name=practice.name,
        city=practice.city,
        postal_code=practice.postal_code,
        address=practice.address,
        country=practice.country,
        phone=practice.phone,
        plan=practice.plan,
        shares=practice.shares,
        actor=actor,
    )
    made: list[Person] = []
    with tenancy.practice_context(created.pk):
        for index, person in enumerate(people):
            made.append(
                accounts.person_create(
                    username=person.username,
                    full_name=person.full_name,
                    email=person.email,
                    profession=person.profession,
                    rpps=person.rpps,
                    password=first_password if index == 0 else None,
                    practice=created,
                    roles=person.roles,
                    check_password=False,
                    actor=actor,
                )
            )
    return Onboarded(created, made)


def free_slug(name: str) -> str:
    """An address for a new practice from its name, not yet taken on this node."""
    base = slugify(name)[:50] or "cabinet"
    slug, n = base, 1
    while Practice.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


TITLES = {"dr", "docteur", "pr", "professeur", "mme", "m"}


def free_username(full_name: str, also_taken: set[str]) -> str:
    """A username from a full name (firstname.lastname, no accents), not yet taken."""
    words = slugify(full_name).split("-")
    if len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    base = ".".join(words)[:140] or "compte"
    username, n = base, 1
    while username in also_taken or Person.objects.filter(username=username).exists():
        n += 1
        username = f"{base}{n}"
    return username
