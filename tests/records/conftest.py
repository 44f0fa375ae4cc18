from __future__ import annotations

import pytest

from records.access import PatientAccess, access_for
from tests.fixtures import World


@pytest.fixture
def alice_on_paul(world: World):
    """Alice (GP of record) acting on Paul's record."""
    actor = world.actor(world.alice)
    return actor, access_for(world.paul)


def fresh_access(world: World) -> PatientAccess:
    return access_for(world.paul)
