"""Patients' names in French order: accents and case do not come first. Émile Éluard
is between Dupont and Fabre, not after Zweig (as in byte order, "É" > "Z")."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from core import tenancy
from records import nir
from records.selectors import patient_search
from tests.factories import PatientFactory
from tests.fixtures import World
from tests.records.test_views import login

NAMES = ["Zweig", "Éluard", "Fabre", "dupré", "Dupont", "Œhmichen", "Ebert", "Élie"]
FRENCH_ORDER = ["Dupont", "dupré", "Ebert", "Élie", "Éluard", "Fabre", "Œhmichen", "Zweig"]


@pytest.fixture
def accented(world: World) -> World:
    tenancy.activate(world.practice_b.pk)
    born = date(1980, 1, 2)
    for index, name in enumerate(NAMES):
        PatientFactory(
            practice=world.practice_b,
            birth_name=name,
            given_names="Émile",
            sex="M",
            birth_date=born,
            nir=nir.make("1", born, "69123", 40 + index),
        )
    tenancy.activate(None)
    return world


def listed(world: World, query: str) -> list[str]:
    actor = world.actor(world.charlie, world.practice_b)
    found = patient_search(actor=actor, query=query)
    return [p.birth_name for p in found if p.birth_name in NAMES]


def test_the_patient_list_sorts_accented_names_in_french_order(accented: World) -> None:
    assert listed(accented, "") == FRENCH_ORDER


def test_search_results_that_match_alike_are_in_french_order(accented: World) -> None:
    # Every patient has this birth date: the names then decide the order.
    assert listed(accented, "02/01/1980") == FRENCH_ORDER


def test_the_patient_list_page_shows_them_in_that_order(client: Client, accented: World) -> None:
    page = (
        login(client, accented.charlie)
        .get(f"/p/{accented.practice_b.slug}/patients/")
        .content.decode()
    )
    positions = [page.upper().find(name.upper()) for name in FRENCH_ORDER]
    assert -1 not in positions and positions == sorted(positions)
