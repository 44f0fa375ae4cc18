from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from billing import fees
from billing.models import Issuer
from billing.services import issuer_for
from tests.fixtures import World


@pytest.fixture(scope="session")
def fee_schedules(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The shipped fee files, loaded once as the owner role (the app may only read)."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SET ROLE carnet_owner")
        try:
            for path in fees.DEFAULT_FILES["acts"]:
                fees.load_acts(path)
            for path in fees.DEFAULT_FILES["rules"]:
                fees.load_rules(path)
        finally:
            cursor.execute("SET ROLE carnet_app")
    yield


@pytest.fixture
def billing_world(world: World, fee_schedules: None) -> World:
    return world


@pytest.fixture
def alice_issuer(billing_world: World) -> Issuer:
    return issuer_for(billing_world.alice)
