"""Named people and practices, as in the style guide:

- Alice: GP at practice A, GP of record of patient Paul (so in his care team);
- Bob: GP at practice A, not in Paul's care team;
- Sam: secretary at practice A;
- Charlie: GP at practice B, another tenant.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.db import connection
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import tenancy
from core.access.policy import Actor
from core.accounts.models import Person
from core.accounts.selectors import actor_for
from core.practices.models import Practice
from records.models import Patient
from tests.factories import MembershipFactory, PatientFactory, PersonFactory, PracticeFactory
from tests.fixtures_password import PASSWORD  # noqa: F401


@dataclass
class World:
    practice_a: Practice
    practice_b: Practice
    alice: Person
    bob: Person
    sam: Person
    charlie: Person
    paul: Patient  # patient of practice A, GP Alice
    zoe: Patient  # patient of practice B

    def actor(self, person: Person, practice: Practice | None = None) -> Actor:
        """The person's ``Actor`` in the practice, the transaction scoped to it as entering
        the practice does (with the practice's care-team setting)."""
        practice = practice or self.practice_a
        tenancy.activate_then(practice.pk, person.pk, care_team_mode=practice.care_team_mode)
        return actor_for(person, practice.pk)


@pytest.fixture
def world(db: None) -> World:
    practice_a = PracticeFactory(slug="cabinet-a", name="Cabinet A")
    practice_b = PracticeFactory(slug="cabinet-b", name="Cabinet B")
    tenancy.activate(practice_a.pk)
    alice = PersonFactory(username="alice", full_name="Dr Alice Arnaud", profession="gp")
    bob = PersonFactory(username="bob", full_name="Dr Bob Blanc", profession="gp")
    sam = PersonFactory(username="sam", full_name="Sam Simon")
    charlie = PersonFactory(username="charlie", full_name="Dr Charlie Caron", profession="gp")
    MembershipFactory(practice=practice_a, person=alice, role="practitioner")
    MembershipFactory(practice=practice_a, person=bob, role="practitioner")
    MembershipFactory(practice=practice_a, person=sam, role="secretary")
    paul = PatientFactory(practice=practice_a, gp=alice, birth_name="Dupont", given_names="Paul")
    tenancy.activate(practice_b.pk)
    MembershipFactory(practice=practice_b, person=charlie, role="practitioner")
    zoe = PatientFactory(practice=practice_b, gp=charlie, birth_name="Zola", given_names="Zoé")
    tenancy.activate(None)
    return World(practice_a, practice_b, alice, bob, sam, charlie, paul, zoe)


def totp_code(device: TOTPDevice, at: float | None = None) -> str:
    import time

    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    generator.time = time.time() if at is None else at
    return f"{generator.token():06d}"


def enroll(person: Person) -> TOTPDevice:
    return TOTPDevice.objects.create(user=person, name="test", confirmed=True)


def b32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode()


@contextmanager
def as_owner() -> Iterator[None]:
    """The tables' owner role, as the owner's commands run (`carnet load_reference`,
    `generate_volume`, `practice_purge`); the tests' connection is the application's role."""
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE carnet_owner")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET ROLE carnet_app")
