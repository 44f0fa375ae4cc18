"""Personal API tokens: bearer authentication, bound to one practice, revocable."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import tenancy
from core.accounts import services
from core.accounts.models import ApiToken, Membership, Person
from core.audit.models import AuditEvent
from core.audit.services import Outcome
from core.practices.models import Practice
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


# --- One round trip: the token, its practice entered, the roles there ------------------


def database_tenant() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('carnet.practice_id', true),"
            " current_setting('carnet.person_id', true)"
        )
        practice, person = cursor.fetchone()
    return practice or "", person or ""


def as_a_new_request() -> None:
    """No tenant on either side, as at the start of a request's transaction."""
    tenancy.forget()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('carnet.practice_id', '', true),"
            " set_config('carnet.person_id', '', true)"
        )


def test_a_good_token_enters_its_practice_with_the_roles_in_one_round_trip(
    world: World,
) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    as_a_new_request()
    with CaptureQueriesContext(connection) as queries:
        token = services.api_token_enter(plaintext)
    assert len(queries.captured_queries) == 1
    assert token is not None
    assert token.entered_roles == frozenset({"practitioner"})
    assert database_tenant() == (str(world.practice_a.pk), str(world.alice.pk))
    assert tenancy.current() == tenancy.Tenant(
        world.practice_a.pk, world.alice.pk, world.practice_a.care_team_mode
    )


def _revoke(token: ApiToken, world: World) -> None:
    services.api_token_revoke(token=token, actor=world.alice)


def _expire(token: ApiToken, world: World) -> None:
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def _deactivate_person(token: ApiToken, world: World) -> None:
    Person.objects.filter(pk=world.alice.pk).update(is_active=False)


@pytest.mark.parametrize(
    ("spoil", "tamper"),
    [
        (None, True),
        (_revoke, False),
        (_expire, False),
        (_deactivate_person, False),
    ],
    ids=["wrong secret", "revoked", "expired", "person deactivated"],
)
def test_a_refused_token_sets_no_tenant(world: World, spoil: Any, tamper: bool) -> None:
    """The database's own test of the token decides whether the tenant is set: a token
    refused by the application leaves the transaction with no practice at all."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    if spoil is not None:
        spoil(token, world)
    as_a_new_request()
    assert services.api_token_enter(plaintext[:-2] + "xx" if tamper else plaintext) is None
    assert database_tenant() == ("", "")
    assert tenancy.current() is None


def test_a_token_of_a_closed_practice_enters_nothing(client: Client, world: World) -> None:
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    Practice.objects.filter(pk=world.practice_a.pk).update(is_active=False)
    as_a_new_request()
    token = services.api_token_enter(plaintext)
    assert not hasattr(token, "entered_roles")
    assert database_tenant() == ("", "")
    response = get(client, "/api/v1/patients/", plaintext)
    assert response.status_code == 404


def test_a_token_whose_person_left_the_practice_reads_nothing(client: Client, world: World) -> None:
    """The roles read under the token's tenant are the membership's: none once it ended."""
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    _token, plaintext = services.api_token_create(
        person=world.alice, practice=world.practice_a, name="t"
    )
    Membership.objects.filter(person=world.alice, practice=world.practice_a).update(is_active=False)
    response = get(client, "/api/v1/patients/", plaintext)
    assert response.status_code == 403
    assert "patients" not in response.content.decode()


def test_the_databases_test_of_a_token_agrees_with_the_applications_on_every_case(
    world: World,
) -> None:
    """The token is tested twice: in SQL (does the round trip set the tenant?) and in
    Python (``api_token_authenticate``, the specification, with the practice's state that
    ``PracticeAPIMixin`` checks). Over every combination of the five conditions both
    decide alike: the tenant is set exactly when the application accepts the token and
    its practice is open."""
    cases = list(itertools.product([False, True], repeat=5))
    for index, (wrong_secret, revoked, expired, person_off, practice_off) in enumerate(cases):
        tenancy.activate(world.practice_a.pk, world.alice.pk)
        token, plaintext = services.api_token_create(
            person=world.alice, practice=world.practice_a, name=f"case {index}"
        )
        ApiToken.objects.filter(pk=token.pk).update(
            revoked_at=timezone.now() if revoked else None,
            expires_at=timezone.now() + timedelta(days=-1 if expired else 1),
        )
        Person.objects.filter(pk=world.alice.pk).update(is_active=not person_off)
        Practice.objects.filter(pk=world.practice_a.pk).update(is_active=not practice_off)
        raw = plaintext[:-2] + "xx" if wrong_secret else plaintext
        accepted = services.api_token_authenticate(raw)
        expected = accepted is not None and not practice_off

        as_a_new_request()
        entered = services.api_token_enter(raw)
        names = ["wrong secret", "revoked", "expired", "person off", "practice off"]
        case = dict(zip(names, cases[index], strict=True))
        assert (entered is None) == (accepted is None), case
        tenant = (str(world.practice_a.pk), str(world.alice.pk)) if expected else ("", "")
        assert database_tenant() == tenant, case
        assert hasattr(entered, "entered_roles") == expected, case

        Person.objects.filter(pk=world.alice.pk).update(is_active=True)
        Practice.objects.filter(pk=world.practice_a.pk).update(is_active=True)
    assert len(cases) == 32


@pytest.mark.django_db
def test_the_api_schema_names_both_ways_to_authenticate(client: Client) -> None:
    # The schemes are registered where the schema is served (carnet/urls.py), not when
    # the apps load: a command that serves nothing does not pay for drf-spectacular.
    schema = client.get("/api/schema/?format=json").json()

    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (carnet_<id>_<secret>), bound to one practice.",
    }
    assert schemes["session"]["in"] == "cookie"
