"""A page whose main job is a form puts the cursor in its first field (issue 18: it took
13 Tabs to reach it), and, when the form comes back refused, in the first field in
error."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from core import tenancy
from core.accounts.models import Membership
from tests.fixtures import World
from tests.records.test_views import login


def focused(html: str) -> list[str]:
    """The names of the fields with the autofocus attribute."""
    return [
        re.search(r'name="([^"]+)"', tag).group(1)  # type: ignore[union-attr]
        for tag in re.findall(r"<(?:input|select|textarea)[^>]*\bautofocus\b[^>]*>", html)
    ]


@pytest.fixture
def desk(world: World) -> World:
    """Sam runs the desk and the practice."""
    tenancy.activate(world.practice_a.pk)
    Membership.objects.create(practice=world.practice_a, person=world.sam, role="practice_admin")
    tenancy.activate(None)
    return world


@pytest.mark.parametrize(
    ("address", "field"),
    [
        ("agenda/reglages/sites/", "name"),
        ("agenda/reglages/types/", "name"),
        ("agenda/reglages/absences/", "practitioner"),
        ("resultats/reception/", "file"),
        ("jetons/", "name"),
        ("tarifs/nouveau/", "nomenclature"),
        ("tarifs/import/", "file"),
        ("feuilles-de-soins/imprimante/", "printer"),
    ],
)
def test_the_cursor_starts_in_the_forms_first_field(desk: World, address: str, field: str) -> None:
    page = login(Client(), desk.sam).get(f"/p/{desk.practice_a.slug}/{address}")
    assert page.status_code == 200, address
    assert focused(page.content.decode()) == [field], address


def test_the_merge_starts_in_its_search(desk: World) -> None:
    slug = desk.practice_a.slug
    merge = login(Client(), desk.alice).get(f"/p/{slug}/patients/{desk.paul.pk}/fusionner/")
    assert focused(merge.content.decode()) == ["q"]


def test_the_patients_consent_form_starts_in_its_first_field(desk: World) -> None:
    page = login(Client(), desk.sam).get(
        f"/p/{desk.practice_a.slug}/patients/{desk.paul.pk}/consentements/"
    )
    assert page.status_code == 200
    assert len(focused(page.content.decode())) == 1


def test_the_profile_starts_in_the_current_password(desk: World) -> None:
    page = login(Client(), desk.alice).get("/profil/")
    assert focused(page.content.decode()) == ["current_password"]


def test_a_refused_form_puts_the_cursor_in_the_first_field_in_error(desk: World) -> None:
    client = login(Client(), desk.sam)
    address = f"/p/{desk.practice_a.slug}/agenda/reglages/types/"
    refused = client.post(address, {"name": "Consultation", "minutes": "-5"})
    assert refused.status_code == 400
    assert focused(refused.content.decode()) == ["minutes"]


def test_a_form_whose_first_field_is_a_box_starts_on_the_box(desk: World) -> None:
    """Closing the cash day: its one field, the confirmation box, has the cursor."""
    page = login(Client(), desk.sam).get(f"/p/{desk.practice_a.slug}/caisse/cloturer/")
    assert page.status_code == 200
    assert focused(page.content.decode()) == ["confirm"]


def test_the_patients_choices_start_in_the_exclusion_or_in_the_refused_permission(
    desk: World,
) -> None:
    address = f"/p/{desk.practice_a.slug}/patients/{desk.paul.pk}/choix/"
    client = login(Client(), desk.alice)
    assert focused(client.get(address).content.decode()) == ["person"]
    refused = client.post(address, {"grant": "1"})
    assert refused.status_code == 400
    html = refused.content.decode()
    grant_form = html.split('name="grant"', 1)[0].rsplit("<form", 1)[1]
    assert len(focused(html)) == 1 and focused(grant_form) == focused(html)
