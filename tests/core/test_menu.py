"""The menu offers a page only to whom the policy opens it: the shares received to the
practice's staff, not to an administrator without a clinical or desk role."""

from __future__ import annotations

import re

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


def links(html: str) -> list[tuple[str, str]]:
    """The menu's links (address, accesskey), in order."""
    return re.findall(r'<a href="([^"]+)"(?: accesskey="(\w)")?', html)


def test_the_menu_is_the_registered_pages_in_order_for_each_role(
    client: Client, world: World
) -> None:
    """The kernel's layout names no app's page: records, billing, lab and sharing register
    theirs (core.navigation) and each person sees the same menu as before, in the same
    order with the same access keys; the administrator without a desk or clinical role
    is not offered the shares received."""
    slug = world.practice_a.slug
    staff = [
        (f"/p/{slug}/", ""),
        (f"/p/{slug}/patients/", "p"),
        (f"/p/{slug}/caisse/", "j"),
        (f"/p/{slug}/resultats/", ""),
        (f"/p/{slug}/partages/recus/", ""),
    ]
    for person in (world.alice, world.sam):
        shown = links(menu(login(Client(), person), world))
        assert shown[: len(staff)] == staff, person.username
    tenancy.activate(world.practice_a.pk)
    admin = PersonFactory(username="anne", full_name="Anne Admin")
    MembershipFactory(practice=world.practice_a, person=admin, role="practice_admin")
    tenancy.activate(None)
    shown = links(menu(login(Client(), admin), world))
    assert shown[: len(staff) - 1] == staff[:-1]
    assert staff[-1] not in shown


def test_the_record_banner_shows_the_sharing_and_billing_links_they_registered(
    client: Client, world: World
) -> None:
    """The record's banner names no page of sharing or billing: they register them, and
    the chart shows them after the record's own, in the same order as before."""
    login(client, world.alice)
    slug, patient = world.practice_a.slug, world.paul.pk
    page = client.get(f"/p/{slug}/patients/{patient}/").content.decode()
    banner = page.split('<nav class="no-print links"', 1)[1].split("</nav>", 1)[0]
    assert links(banner)[-3:] == [
        (f"/p/{slug}/patients/{patient}/consentements/", ""),
        (f"/p/{slug}/patients/{patient}/partages/", ""),
        (f"/p/{slug}/patients/{patient}/facturation/", "f"),
    ]
