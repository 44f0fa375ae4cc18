"""Two registrations of the same person at once cannot both pass the duplicate check:
a registration holds its day of birth in its practice until it commits, and any other
registration of someone born that day in that practice waits for it (two desks, two
files of an import). Seen from a second connection to the same database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import psycopg
import pytest
from django.db import connection

from records import services
from records.services.patients import _registration_key
from tests.conftest import superuser_conninfo
from tests.fixtures import World

BORN = date(1991, 3, 12)


@pytest.fixture
def other_desk() -> Iterator[psycopg.Connection]:
    """Another session on the test database, as another desk's request would be."""
    with psycopg.connect(
        superuser_conninfo(connection.settings_dict["NAME"]), autocommit=True
    ) as other:
        yield other


def held_elsewhere(other: psycopg.Connection, practice_id: int, born: date) -> bool:
    """Whether the other session would have to wait to register someone born that day."""
    with other.transaction():
        row = other.execute(
            "SELECT pg_try_advisory_xact_lock(%s)", [_registration_key(practice_id, born)]
        ).fetchone()
    return not (row and row[0])


def test_a_registration_holds_its_day_of_birth_until_it_commits(
    world: World, other_desk: psycopg.Connection
) -> None:
    assert not held_elsewhere(other_desk, world.practice_a.pk, BORN)

    services.patient_create(
        actor=world.actor(world.sam),
        birth_name="Lemoine",
        given_names="Marc",
        sex="M",
        birth_date=BORN,
    )

    # Still in the test's transaction: the day is held, for this practice only.
    assert held_elsewhere(other_desk, world.practice_a.pk, BORN)
    assert not held_elsewhere(other_desk, world.practice_a.pk, date(1991, 3, 13))
    assert not held_elsewhere(other_desk, world.practice_b.pk, BORN)


def test_a_registration_confirmed_not_a_duplicate_holds_nothing(
    world: World, other_desk: psycopg.Connection
) -> None:
    services.patient_create(
        actor=world.actor(world.sam),
        birth_name="Lemoine",
        given_names="Marc",
        sex="M",
        birth_date=BORN,
        confirm_not_duplicate=True,
    )

    assert not held_elsewhere(other_desk, world.practice_a.pk, BORN)


def test_several_days_are_held_together(world: World, other_desk: psycopg.Connection) -> None:
    days = [date(2001, 1, 2), date(1950, 7, 14), date(2001, 1, 2)]

    services.hold_registrations(world.practice_a.pk, days)

    assert all(held_elsewhere(other_desk, world.practice_a.pk, day) for day in days)
    assert not held_elsewhere(other_desk, world.practice_a.pk, date(2001, 1, 3))
