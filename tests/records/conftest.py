from __future__ import annotations

from datetime import date

import pytest

from core import tenancy
from records import nir
from records.access import PatientAccess, access_for
from tests.factories import PatientFactory
from tests.fixtures import World


@pytest.fixture
def alice_on_paul(world: World):
    """Alice (GP of record) acting on Paul's record."""
    actor = world.actor(world.alice)
    return actor, access_for(world.paul)


def fresh_access(world: World) -> PatientAccess:
    return access_for(world.paul)


@pytest.fixture
def people(world: World) -> World:
    """Three patients of practice A for the search tests: Hélène Dupont (born 14/03/1962,
    with a NIR), Marc Dupuis, Aïssa N'Diaye-Lefèvre."""
    tenancy.activate(world.practice_a.pk)
    born = date(1962, 3, 14)
    PatientFactory(
        practice=world.practice_a,
        birth_name="Dupont",
        given_names="Hélène",
        birth_date=born,
        nir=nir.make("2", born, "69123", 17),
    )
    PatientFactory(
        practice=world.practice_a,
        birth_name="Dupuis",
        given_names="Marc",
        sex="M",
        nir=nir.make("1", date(1970, 5, 17), "69123", 18),
    )
    PatientFactory(
        practice=world.practice_a,
        birth_name="N'Diaye-Lefèvre",
        given_names="Aïssa",
        nir=nir.make("2", date(1970, 5, 17), "75056", 19),  # not a generated NIR (69123)
    )
    return world
