"""The menu offers a page only to whom the policy opens it: the shares received to the
practice's staff, not to an administrator without a clinical or desk role."""

from __future__ import annotations

from django.test import Client

from core import tenancy
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World
from tests.records.test_views import login


def menu(client: Client, world: World) -> str:
    page = client.get(f"/p/{world.practice_a.slug}/resultats/reception/").content.decode()
    return page.split("</nav>", 1)[0]


def test_the_shares_received_are_in_the_menu_of_the_staff_only(
    client: Client, world: World
) -> None:
    inbox = f'href="/p/{world.practice_a.slug}/partages/recus/"'
    assert inbox in menu(login(client, world.sam), world)
    tenancy.activate(world.practice_a.pk)
    admin = PersonFactory(username="anne", full_name="Anne Admin")
    MembershipFactory(practice=world.practice_a, person=admin, role="practice_admin")
    tenancy.activate(None)
    shown = menu(login(Client(), admin), world)
    assert "Résultats" in shown and inbox not in shown
    assert Client().get(inbox.split('"')[1]).status_code in (302, 403)
