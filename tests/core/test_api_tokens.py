"""Personal API tokens: bearer authentication, bound to one practice, revocable."""

from __future__ import annotations

from django.db import connection
from django.test import Client

from core import tenancy
from core.accounts import services
from core.audit.models import AuditEvent
from core.audit.services import Outcome
from tests.fixtures import World, enroll, totp_code


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


def test_a_token_revoked_on_its_page_is_refused_at_once_and_the_refusal_audited(
    world: World,
) -> None:
    """The owner revokes a token in use from the tokens page; the very next call with it
    gets 401, and the refused attempt is in the audit trail, naming the token."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    api = Client()
    assert get(api, "/api/v1/patients/", plaintext).status_code == 200

    browser = Client()
    device = enroll(world.alice)
    browser.post("/connexion/", {"username": "alice", "password": "correct horse battery staple"})
    browser.post("/connexion/code/", {"code": totp_code(device)})
    page = f"/p/{world.practice_a.slug}/jetons/{token.key_id}/revoquer/"
    assert browser.post(page).status_code == 302

    refused = get(api, "/api/v1/patients/", plaintext)
    assert refused.status_code == 401
    assert refused.json()["error"]["status"] == 401
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")  # refusals before any practice is known: read as owner
    try:
        revoked = AuditEvent.objects.get(action="api_token.revoke", target=f"token:{token.key_id}")
        refusal = AuditEvent.objects.filter(action="api.auth_failed").latest("seq")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET ROLE carnet_app")
    assert revoked.actor_id == world.alice.pk
    assert refusal.outcome == Outcome.FAILURE
    assert refusal.actor_label == token.key_id
    assert refusal.channel == "api"
    assert refusal.occurred_at >= revoked.occurred_at
