"""Coding that cannot be wrong: a problem's CIM-10 code comes from the shipped ATIH list
(found by code or by words, accents and typos forgiven), and an unknown code is refused
through the page and the API, with nothing stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from records import reference, services
from records.access import access_for
from records.models import Problem
from tests.fixtures import World
from tests.records.test_api import Api, api_for
from tests.records.test_views import login


def url(world: World, rest: str = "") -> str:
    return f"/p/{world.practice_a.slug}/patients/{world.paul.pk}/{rest}"


@pytest.fixture
def alice_web(client: Client, world: World) -> Client:
    return login(client, world.alice)


@pytest.fixture
def alice_api(world: World) -> Api:
    return api_for(Client(), world, world.alice)


# Searching the list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["diabete type 2", "Diabète de type 2", "diabette type 2", "diabte type 2", "diabete typ 2"],
)
def test_words_with_no_accents_or_a_typo_find_e11(db: None, query: str) -> None:
    codes = [code.code for code in reference.cim10_search(query)]

    assert "E11" in codes[:3]


def test_the_search_page_proposes_e11_for_diabete_type_2(alice_web: Client, world: World) -> None:
    response = alice_web.get(f"/p/{world.practice_a.slug}/cim10/", {"code": "diabete type 2"})

    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="E11"' in page
    assert "Diabète sucré de type 2" in page


# The page --------------------------------------------------------------------------------


def test_an_unknown_code_is_refused_by_the_form_and_nothing_is_stored(
    alice_web: Client, world: World
) -> None:
    response = alice_web.post(
        url(world, "ajouter/problem/"), {"code": "ZZZ9", "label": "Problème inventé"}
    )

    assert response.status_code == 400
    assert "Code CIM-10 inconnu : ZZZ9" in response.content.decode()
    assert not Problem.objects.filter(patient=world.paul).exists()


def test_the_refusal_is_in_english_for_an_english_speaker(alice_web: Client, world: World) -> None:
    alice_web.post("/i18n/setlang/", {"language": "en", "next": "/"})

    response = alice_web.post(url(world, "ajouter/problem/"), {"code": "ZZZ9", "label": "X"})

    assert response.status_code == 400
    assert "Unknown CIM-10 code: ZZZ9" in response.content.decode()


def test_a_code_typed_with_its_dot_is_stored_as_the_list_writes_it_with_its_label(
    alice_web: Client, world: World
) -> None:
    response = alice_web.post(url(world, "ajouter/problem/"), {"code": "e11.9", "label": ""})

    assert response.status_code == 302
    problem = Problem.objects.get(patient=world.paul)
    assert problem.code == "E119"
    assert problem.label.startswith("Diabète sucré de type 2")


def test_words_in_the_code_field_come_back_with_the_codes_to_choose(
    alice_web: Client, world: World
) -> None:
    response = alice_web.post(url(world, "ajouter/problem/"), {"code": "diabete type 2"})

    assert response.status_code == 400
    page = response.content.decode()
    assert "n&#x27;est pas un code CIM-10" in page
    # Each proposal is a button that sends its code with the form (no JavaScript needed).
    assert 'name="code" value="E11"' in page
    assert not Problem.objects.exists()


def test_the_service_refuses_an_unknown_code_whatever_the_way_in(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        services.entry_create(
            actor=world.actor(world.alice),
            access=access_for(world.paul),
            model=Problem,
            label="Inventé",
            code="ZZZ9",
        )
    assert "code" in refused.value.message_dict


# The API ---------------------------------------------------------------------------------


def test_an_unknown_code_is_refused_by_the_api_and_nothing_is_stored(
    alice_api: Api, world: World
) -> None:
    response = alice_api.client.post(
        f"/api/v1/patients/{world.paul.pk}/problems/",
        data={"code": "ZZZ9", "label": "Problème inventé"},
        content_type="application/json",
        HTTP_AUTHORIZATION=alice_api.auth,
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert "Code CIM-10 inconnu : ZZZ9" in response.content.decode()
    assert not Problem.objects.filter(patient=world.paul).exists()


def test_the_api_refusal_is_in_english_when_asked(alice_api: Api, world: World) -> None:
    response = alice_api.client.post(
        f"/api/v1/patients/{world.paul.pk}/problems/",
        data={"code": "ZZZ9", "label": "Invented"},
        content_type="application/json",
        HTTP_AUTHORIZATION=alice_api.auth,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "Unknown CIM-10 code: ZZZ9" in response.content.decode()


def test_the_api_stores_a_known_code_without_its_dot(alice_api: Api, world: World) -> None:
    response = alice_api.send(
        "post", f"patients/{world.paul.pk}/problems/", {"code": "I10", "label": "HTA"}
    )

    assert response.status_code == 201, response.content
    assert response.json()["code"] == "I10"


def test_a_correction_to_an_unknown_code_is_refused(alice_api: Api, world: World) -> None:
    created = alice_api.send(
        "post", f"patients/{world.paul.pk}/problems/", {"code": "I10", "label": "HTA"}
    ).json()

    response = alice_api.send(
        "patch",
        f"patients/{world.paul.pk}/problems/{created['id']}/",
        {"version": 1, "reason": "erreur de code", "code": "ZZZ9"},
    )

    assert response.status_code == 400
    assert Problem.objects.get(pk=created["id"]).code == "I10"


def test_a_nul_character_in_the_search_is_harmless(alice_web: Client, world: World) -> None:
    response = alice_web.get(f"/p/{world.practice_a.slug}/cim10/", {"code": "diab\x00ete"})

    # Refused with a message, as the drug search does (tests/records/test_search_hostile_input).
    assert response.status_code == 400
    assert "contient un caractère de contrôle" in response.content.decode()
