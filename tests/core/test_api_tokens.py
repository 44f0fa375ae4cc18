"""Personal API tokens: bearer authentication, bound to one practice, revocable."""

from __future__ import annotations

from django.test import Client

from core import tenancy
from core.accounts import services
from tests.fixtures import World


def get(client: Client, path: str, token: str):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_reads_the_api_as_its_person(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    response = get(client, "/api/v1/patients/", plaintext)
    assert response.status_code == 200
    assert [p["birth_name"] for p in response.json()] == ["Dupont"]


def test_a_revoked_token_is_refused(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    services.api_token_revoke(token=token, actor=world.alice)
    response = get(client, "/api/v1/patients/", plaintext)
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}


def test_a_tampered_token_is_refused(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    response = get(client, "/api/v1/patients/", plaintext[:-2] + "xx")
    assert response.status_code == 401


def test_without_credentials_the_api_answers_401_json(client: Client, db: None) -> None:
    response = client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


def test_a_token_never_reaches_another_practice_patient(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    response = get(client, f"/api/v1/patients/{world.zoe.pk}/", plaintext)
    assert response.status_code == 404


def test_a_secretary_token_reads_identity(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.sam.pk)
    _token, plaintext = services.api_token_create(
        person=world.sam, practice=world.practice_a, name="t"
    )
    response = get(client, f"/api/v1/patients/{world.paul.pk}/", plaintext)
    assert response.status_code == 200
    assert response.json()["birth_name"] == "Dupont"
