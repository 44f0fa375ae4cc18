"""Vaccinations are picked from the BDPM vaccines, with their lot number, through the
form and the API. The drugs are loaded once for the module, as in test_reference."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from pytest_django import DjangoDbBlocker

from records import reference
from records.models import Drug, Immunization
from tests.fixtures import World
from tests.records.test_api import Api, api_for
from tests.records.test_reference import as_owner
from tests.records.test_views import login

PRIORIX = "PRIORIX, poudre et solvant pour solution injectable en seringue préremplie"


@pytest.fixture(scope="module")
def vaccines_loaded(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[int]:
    with django_db_blocker.unblock(), as_owner():
        reference.load_drugs(reference.DEFAULT_DRUGS_FILE)
        count = reference.load_vaccines()
    yield count
    with django_db_blocker.unblock(), as_owner(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM records_drug")


@pytest.fixture
def vaccines(vaccines_loaded: int, db: None) -> int:
    return vaccines_loaded


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/{rest}"


def test_the_shipped_lists_mark_the_bdpm_vaccines(vaccines: int) -> None:
    assert vaccines == 100  # 97 with "vaccin" in their name, and HEXYON, QDENGA, VIVOTIF
    assert Drug.objects.get(cis="60645557").vaccine  # HEXYON
    assert not Drug.objects.get(name="DOLIPRANE 1000 mg, comprimé").vaccine


def test_the_vaccine_search_finds_only_vaccines(vaccines: int) -> None:
    found = reference.drug_search("priorix", vaccines=True)

    assert found and found[0].name.startswith("PRIORIX")
    assert reference.drug_search("doliprane", vaccines=True) == []


def test_the_form_stores_the_picked_vaccine_with_its_lot(
    vaccines: int, client: Client, world: World
) -> None:
    login(client, world.alice)
    priorix = Drug.objects.get(name__startswith="PRIORIX")

    page = client.get(f"/p/{world.practice_a.slug}/vaccins/", {"vaccine": "priorix"})
    assert f'value="{priorix.cis}"' in page.content.decode()
    response = client.post(
        url(world, "ajouter/immunization/"),
        {
            "vaccine": "priorix",
            "drug": priorix.cis,
            "vaccinated_on": "2026-03-02",
            "lot_number": "A21CB123",
            "dose": "1re dose",
        },
    )

    assert response.status_code == 302
    vaccination = Immunization.objects.get(patient=world.paul)
    assert (vaccination.drug, vaccination.vaccine, vaccination.lot_number) == (
        priorix,
        priorix.name,
        "A21CB123",
    )


def test_the_form_refuses_a_vaccine_typed_but_not_picked_and_proposes_some(
    vaccines: int, client: Client, world: World
) -> None:
    login(client, world.alice)

    response = client.post(
        url(world, "ajouter/immunization/"),
        {"vaccine": "priorix", "vaccinated_on": "2026-03-02", "lot_number": "A21"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choisissez le vaccin dans la liste" in page
    assert 'name="drug" value="' in page  # the proposals, usable without JavaScript
    assert not Immunization.objects.exists()


def test_the_form_refuses_a_drug_that_is_not_a_vaccine_and_a_missing_lot(
    vaccines: int, client: Client, world: World
) -> None:
    login(client, world.alice)
    doliprane = Drug.objects.get(name="DOLIPRANE 1000 mg, comprimé")

    response = client.post(
        url(world, "ajouter/immunization/"),
        {"vaccine": doliprane.name, "drug": doliprane.cis, "vaccinated_on": "2026-03-02"},
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "Choisissez le vaccin dans la liste" in page
    assert "Ce champ est obligatoire" in page  # the lot number
    assert not Immunization.objects.exists()


def test_the_api_takes_a_vaccine_by_its_cis_code_with_its_lot(vaccines: int, world: World) -> None:
    api: Api = api_for(Client(), world, world.alice)
    priorix = Drug.objects.get(name__startswith="PRIORIX")

    created = api.send(
        "post",
        f"patients/{world.paul.pk}/immunizations/",
        {"drug": priorix.cis, "vaccinated_on": "2026-03-02", "lot_number": "A21CB123"},
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["drug"], body["vaccine"], body["lot_number"]) == (
        priorix.cis,
        priorix.name,
        "A21CB123",
    )


def test_the_api_refuses_a_product_that_is_not_a_vaccine(vaccines: int, world: World) -> None:
    api: Api = api_for(Client(), world, world.alice)
    doliprane = Drug.objects.get(name="DOLIPRANE 1000 mg, comprimé")

    refused = api.send(
        "post",
        f"patients/{world.paul.pk}/immunizations/",
        {"drug": doliprane.cis, "vaccinated_on": "2026-03-02", "lot_number": "X"},
    )

    assert refused.status_code == 400
    assert "drug" in refused.json()["error"]["fields"]
    assert not Immunization.objects.exists()


@pytest.mark.parametrize("hostile", ["\x00", "6189647\x00", "'; --", "61896473" * 40, 12])
def test_a_hostile_vaccine_code_is_a_clear_400(vaccines: int, world: World, hostile) -> None:
    api: Api = api_for(Client(), world, world.alice)

    refused = api.send(
        "post",
        f"patients/{world.paul.pk}/immunizations/",
        {"drug": hostile, "vaccinated_on": "2026-03-02", "lot_number": "X"},
    )

    assert refused.status_code == 400


def test_a_hostile_vaccine_code_in_the_form_is_refused(
    vaccines: int, client: Client, world: World
) -> None:
    login(client, world.alice)

    response = client.post(
        url(world, "ajouter/immunization/"),
        {"vaccine": "x", "drug": "\x00", "vaccinated_on": "2026-03-02", "lot_number": "A"},
    )

    assert response.status_code == 400
    assert not Immunization.objects.exists()
