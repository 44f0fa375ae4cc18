"""The practice's team through the REST API: its administrators invite, change roles,
deactivate, reactivate, reset a second factor, unlock and send a new link, with the same
services, policy and audit trail as the team pages; bad input is refused in French and
English with nothing stored; everyone else is refused, and the refusal is audited."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import tenancy
from core.accounts import services
from core.accounts.models import IdempotentRequest, Invitation, Membership, Person
from core.audit.models import AuditEvent
from core.practices.models import Practice
from tests.factories import MembershipFactory, PersonFactory
from tests.fixtures import World, enroll, totp_code
from tests.records.test_views import login

NEW_PASSWORD = "un mot de passe assez long"
VALID_RPPS = "10003456786"
STAFF = "/api/v1/staff/"


def token_for(person: Person, practice: Practice) -> str:
    tenancy.activate(practice.pk, person.pk)
    _token, plaintext = services.api_token_create(person=person, practice=practice, name="api")
    tenancy.activate(None)
    return f"Bearer {plaintext}"


class Api:
    """One person's API client (a personal token), in one language."""

    def __init__(self, token: str, language: str = "en") -> None:
        self.client = Client()
        self.headers = {"HTTP_AUTHORIZATION": token, "HTTP_ACCEPT_LANGUAGE": language}

    def get(self, path: str) -> Any:
        return self.client.get(path, **self.headers)

    def send(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        return getattr(self.client, method)(
            path,
            data=body if body is not None else {},
            content_type="application/json",
            **self.headers,
            **headers,
        )

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.send("post", path, body, **headers)

    def put(self, path: str, body: Any = None) -> Any:
        return self.send("put", path, body)


@pytest.fixture
def admin(world: World) -> Person:
    """Alice also administers practice A."""
    tenancy.activate(world.practice_a.pk)
    MembershipFactory(practice=world.practice_a, person=world.alice, role="practice_admin")
    tenancy.activate(None)
    return world.alice


@pytest.fixture
def alice_api(world: World, admin: Person) -> Api:
    return Api(token_for(world.alice, world.practice_a))


def events(practice: Practice, action: str) -> list[AuditEvent]:
    tenancy.activate(practice.pk)
    found = list(AuditEvent.objects.filter(action=action).order_by("id"))
    tenancy.activate(None)
    return found


def denied_events(person: Person) -> list[tuple[str, str, dict]]:
    """Refusals of this person on every chain (read as the database superuser, like an
    auditor: the application may not read the node's chain)."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "SELECT outcome, target, details FROM audit_event"
            " WHERE action = 'access.denied' AND actor_id = %s ORDER BY id",
            [person.pk],
        )
        rows = cursor.fetchall()
        cursor.execute("SET ROLE carnet_app")
    return [(outcome, target, json.loads(details)) for outcome, target, details in rows]


def invite_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": "Nadia Noël",
        "username": "nadia.noel",
        "roles": ["secretary"],
    }
    body.update(fields)
    return body


def accept(secret: str) -> None:
    """The invited person sets up her account from the link (the existing pages)."""
    anonymous = Client()
    page = anonymous.get(reverse("accounts:invitation", args=[secret]))
    assert page.status_code == 200
    person = Invitation.objects.get(secret_hash=Invitation.hash_secret(secret)).person
    device = TOTPDevice.objects.get(user=person, confirmed=False)
    done = anonymous.post(
        reverse("accounts:invitation", args=[secret]),
        {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": totp_code(device)},
    )
    assert done.status_code == 302, done.content[:500]


def test_an_admin_runs_the_whole_team_through_the_api(world: World, alice_api: Api) -> None:
    # Invite: the answer holds the link once; a replay with the same key does not.
    key = str(uuid.uuid4())
    response = alice_api.post(STAFF, invite_body(), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201, response.content
    issued = response.json()
    invitation, nadia_id = issued["invitation"], issued["person"]["id"]
    assert invitation["link"].endswith(f"/invitation/{invitation['secret']}/")
    assert issued["person"]["status"] == "invited" and issued["person"]["roles"] == ["secretary"]
    tenancy.activate(world.practice_a.pk)
    stored = IdempotentRequest.objects.get(key=key)
    assert invitation["secret"] not in str(stored.body)  # the secret is stored nowhere
    tenancy.activate(None)
    replay = alice_api.post(STAFF, invite_body(), HTTP_IDEMPOTENCY_KEY=key)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json()["invitation"]["id"] == invitation["id"]
    assert replay.json()["invitation"]["secret"] is None
    assert Person.objects.filter(username="nadia.noel").count() == 1

    # She sets up her account from the link, as on paper.
    accept(invitation["secret"])
    member = alice_api.get(f"{STAFF}{nadia_id}/").json()
    assert member["status"] == "active" and member["second_factor"] is True
    assert member["invitation"] is None
    listing = alice_api.get(STAFF).json()
    assert {m["username"] for m in listing} >= {"alice", "bob", "sam", "nadia.noel"}

    # Roles change.
    changed = alice_api.put(f"{STAFF}{nadia_id}/roles/", {"roles": ["secretary", "practice_admin"]})
    assert changed.status_code == 200 and changed.json()["roles"] == ["practice_admin", "secretary"]

    # Deactivated: her token is refused on the next request.
    nadia = Person.objects.get(pk=nadia_id)
    nadia_api = Api(token_for(nadia, world.practice_a))
    assert nadia_api.get("/api/v1/patients/").status_code == 200
    gone = alice_api.post(f"{STAFF}{nadia_id}/deactivate/", {"reason": "fin de contrat"})
    assert gone.status_code == 200 and gone.json()["status"] == "deactivated"
    assert gone.json()["roles"] == [] and set(gone.json()["former_roles"]) == {
        "practice_admin",
        "secretary",
    }
    assert nadia_api.get("/api/v1/patients/").status_code == 401

    # Back, as a secretary only.
    back = alice_api.post(f"{STAFF}{nadia_id}/reactivate/", {"roles": ["secretary"]})
    assert back.status_code == 200 and back.json()["status"] == "active"
    assert back.json()["roles"] == ["secretary"]

    # A lost phone: the admin confirms with her own code; Nadia enrolls again.
    alice_device = enroll(world.alice)
    reset = alice_api.post(
        f"{STAFF}{nadia_id}/second-factor-reset/", {"admin_code": totp_code(alice_device)}
    )
    assert reset.status_code == 200 and reset.json()["second_factor"] is False
    assert not TOTPDevice.objects.filter(user_id=nadia_id).exists()

    # Locked out from one workstation by failed logins; the admin unlocks.
    attacked = Client(REMOTE_ADDR="192.0.2.55")
    for _ in range(5):
        attacked.post(reverse("accounts:login"), {"username": "nadia.noel", "password": "non"})
    assert alice_api.get(f"{STAFF}{nadia_id}/").json()["status"] == "locked"
    unlocked = alice_api.post(f"{STAFF}{nadia_id}/unlock/")
    assert unlocked.status_code == 200 and unlocked.json()["status"] == "active"
    again = attacked.post(
        reverse("accounts:login"), {"username": "nadia.noel", "password": NEW_PASSWORD}
    )
    assert again.status_code == 302

    # Not enrolled any more: she may get a new link, and the old one stays dead.
    renewed = alice_api.post(f"{STAFF}{nadia_id}/invitation/")
    assert renewed.status_code == 201 and renewed.json()["invitation"]["secret"]
    assert renewed.json()["invitation"]["id"] != invitation["id"]

    actions = [
        "staff.invite",
        "staff.invitation_accepted",
        "staff.roles_changed",
        "staff.deactivate",
        "staff.reactivate",
        "staff.second_factor_reset",
        "staff.unlock",
        "staff.reinvite",
    ]
    for action in actions:
        found = events(world.practice_a, action)
        assert found, action
        assert all(e.target == f"person:{nadia_id}" for e in found)
    assert len(events(world.practice_a, "staff.invite")) == 1  # the replay wrote nothing


def test_an_enrolled_person_gets_no_new_link(world: World, alice_api: Api) -> None:
    enroll(world.bob)
    refused = alice_api.post(f"{STAFF}{world.bob.pk}/invitation/")
    assert refused.status_code == 400
    assert "already set their password" in str(refused.json()["error"]["fields"])


@pytest.mark.parametrize(
    ("body", "field", "french", "english"),
    [
        (invite_body(username="bob"), "username", "déjà pris", "already taken"),
        (
            invite_body(roles=["practitioner"], profession="gp", rpps="10003456781"),
            "rpps",
            "clé de contrôle",
            "check digit",
        ),
        (invite_body(roles=["practitioner"], profession="gp"), "rpps", "RPPS", "RPPS"),
        (invite_body(roles=[]), "roles", "au moins un rôle", "at least one role"),
        (invite_body(roles=["chef"]), "roles", "choix valide", "valid choice"),
        (invite_body(full_name=" "), "full_name", "nom complet", "full name"),
    ],
)
def test_bad_invitations_are_refused_in_both_languages_and_store_nothing(
    world: World, admin: Person, body: dict, field: str, french: str, english: str
) -> None:
    token = token_for(world.alice, world.practice_a)
    people = Person.objects.count()
    for language, words in (("fr", french), ("en", english)):
        response = Api(token, language).post(STAFF, body)
        assert response.status_code == 400, response.content
        error = response.json()["error"]
        assert error["code"] == "invalid"
        assert words in str(error["fields"][field]), (language, error)
    assert Person.objects.count() == people
    assert not Invitation.objects.exists()
    assert not events(world.practice_a, "staff.invite")


def test_a_wrong_admin_code_resets_nothing_in_either_language(world: World, admin: Person) -> None:
    token = token_for(world.alice, world.practice_a)
    device = enroll(world.alice)
    enroll(world.bob)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    for language, words in (("fr", "Code incorrect"), ("en", "Wrong code")):
        response = Api(token, language).post(
            f"{STAFF}{world.bob.pk}/second-factor-reset/", {"admin_code": wrong}
        )
        assert response.status_code == 400
        assert words in str(response.json()["error"]["fields"]["admin_code"])
    assert TOTPDevice.objects.filter(user=world.bob).exists()
    assert not events(world.practice_a, "staff.second_factor_reset")


def test_roles_and_deactivation_keep_their_rules(world: World, alice_api: Api) -> None:
    alone = alice_api.put(f"{STAFF}{world.alice.pk}/roles/", {"roles": ["practitioner"]})
    assert alone.status_code == 400 and "administrator" in str(alone.json()["error"]["fields"])
    herself = alice_api.post(f"{STAFF}{world.alice.pk}/deactivate/", {"reason": "test"})
    assert herself.status_code == 400
    no_reason = alice_api.post(f"{STAFF}{world.bob.pk}/deactivate/", {"reason": " "})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["error"]["fields"]
    assert Membership.objects.filter(person=world.bob, is_active=True).exists()
    alice_api.post(f"{STAFF}{world.bob.pk}/deactivate/", {"reason": "départ"})
    # Coming back is its own step, not a change of roles.
    roles = alice_api.put(f"{STAFF}{world.bob.pk}/roles/", {"roles": ["practitioner"]})
    assert roles.status_code == 400 and "reactivate" in str(roles.json()["error"]["fields"])
    world.bob.refresh_from_db()
    assert not world.bob.is_active
    assert alice_api.get(f"{STAFF}{world.charlie.pk}/").status_code == 404  # another practice's


def refused(api: Api, world: World) -> list[int]:
    bob = world.bob.pk
    calls = [
        api.get(STAFF),
        api.post(STAFF, invite_body()),
        api.get(f"{STAFF}{bob}/"),
        api.put(f"{STAFF}{bob}/roles/", {"roles": ["secretary"]}),
        api.post(f"{STAFF}{bob}/deactivate/", {"reason": "x"}),
        api.post(f"{STAFF}{bob}/reactivate/", {"roles": ["secretary"]}),
        api.post(f"{STAFF}{bob}/second-factor-reset/", {"admin_code": "123456"}),
        api.post(f"{STAFF}{bob}/unlock/"),
        api.post(f"{STAFF}{bob}/invitation/"),
    ]
    return [response.status_code for response in calls]


@pytest.mark.parametrize("who", ["sam", "bob"])
def test_a_secretary_or_a_practitioner_is_refused_and_audited(
    world: World, admin: Person, who: str
) -> None:
    person = getattr(world, who)
    api = Api(token_for(person, world.practice_a))
    assert refused(api, world) == [403] * 9
    denials = denied_events(person)
    assert len(denials) == 9
    assert all(details["rule"] == "not-practice-admin" for _o, _t, details in denials)
    assert {target for _o, target, _d in denials} == {"staff", f"person:{world.bob.pk}"}
    assert not Person.objects.filter(username="nadia.noel").exists()
    world.bob.refresh_from_db()
    assert world.bob.is_active


def test_another_practice_admin_is_refused_and_audited(world: World, admin: Person) -> None:
    tenancy.activate(world.practice_b.pk)
    MembershipFactory(practice=world.practice_b, person=world.charlie, role="practice_admin")
    tenancy.activate(None)
    # His token is bound to practice B: practice A's people are not found there.
    charlie = Api(token_for(world.charlie, world.practice_b))
    assert [m["username"] for m in charlie.get(STAFF).json()] == ["charlie"]
    assert refused(charlie, world)[2:] == [404] * 7
    # Naming practice A from his session: he has no role there.
    session = login(Client(), world.charlie)
    response = session.get(STAFF, HTTP_X_CARNET_PRACTICE=world.practice_a.slug)
    assert response.status_code == 403
    assert denied_events(world.charlie)
    world.bob.refresh_from_db()
    assert world.bob.is_active


def test_a_node_admin_is_refused_even_with_an_admin_role(world: World, admin: Person) -> None:
    nora = PersonFactory(username="nora.node", full_name="Nora Nœud", is_node_admin=True)
    tenancy.activate(world.practice_a.pk)
    MembershipFactory(practice=world.practice_a, person=nora, role="practice_admin")
    tenancy.activate(None)
    api = Api(token_for(nora, world.practice_a))
    assert refused(api, world) == [403] * 9
    assert {details["rule"] for _o, _t, details in denied_events(nora)} == {"no-practice-role"}


def test_a_replay_is_handed_out_only_to_an_admin(world: World, alice_api: Api) -> None:
    key = str(uuid.uuid4())
    first = alice_api.post(f"{STAFF}{world.bob.pk}/unlock/", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200
    Membership.objects.filter(person=world.alice, role="practice_admin").update(is_active=False)
    again = alice_api.post(f"{STAFF}{world.bob.pk}/unlock/", HTTP_IDEMPOTENCY_KEY=key)
    assert again.status_code == 403 and "Idempotent-Replayed" not in again


def test_a_session_calls_the_team_api_with_the_practice_header(world: World, admin: Person) -> None:
    alice = login(Client(), world.alice)
    response = alice.get(STAFF, HTTP_X_CARNET_PRACTICE=world.practice_a.slug)
    assert response.status_code == 200
    assert {"id", "roles", "status", "locked", "second_factor"} <= set(response.json()[0])


def test_every_team_operation_is_in_the_openapi_schema(client: Client, db: None) -> None:
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    operations = {
        ("/api/v1/staff/", "get"): None,
        ("/api/v1/staff/", "post"): "InviteInput",
        ("/api/v1/staff/{person_id}/", "get"): None,
        ("/api/v1/staff/{person_id}/roles/", "put"): "RolesInput",
        ("/api/v1/staff/{person_id}/deactivate/", "post"): "DeactivateInput",
        ("/api/v1/staff/{person_id}/reactivate/", "post"): "RolesInput",
        ("/api/v1/staff/{person_id}/second-factor-reset/", "post"): "SecondFactorResetInput",
        ("/api/v1/staff/{person_id}/unlock/", "post"): None,
        ("/api/v1/staff/{person_id}/invitation/", "post"): None,
    }
    for (path, method), request in operations.items():
        operation = paths[path][method]
        ok = "201" if path == "/api/v1/staff/" and method == "post" else "200"
        if path.endswith("/invitation/"):
            ok = "201"
        assert "application/json" in operation["responses"][ok]["content"], (path, method)
        assert operation["responses"]["403"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        if request:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body == {"$ref": f"#/components/schemas/{request}"}
        if method != "get":
            names = {p["name"] for p in operation.get("parameters", [])}
            assert "Idempotency-Key" in names, (path, method)
    issued = schema["components"]["schemas"]["IssuedInvitationOutput"]["properties"]
    assert set(issued) == {"person", "invitation"}
