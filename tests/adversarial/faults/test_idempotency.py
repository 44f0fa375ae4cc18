"""A write sent again with the same Idempotency-Key is not executed twice.

This is what lets a client retry safely when it got no answer (the fault test kills
server processes and restarts the database mid-request): a consultation, an invoice,
a payment is stored once, and the retry gets the first answer back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from billing.models import Invoice, InvoiceCounter
from core import tenancy
from core.access import choices
from core.accounts import services as accounts
from core.accounts.models import IdempotentRequest
from core.audit.models import AuditEvent
from core.audit.verify import verify_chains
from records.models import Encounter
from records.printing import access_report
from tests.billing.conftest import fee_schedules  # noqa: F401 - a fixture
from tests.fixtures import World


class Api:
    def __init__(self, world: World) -> None:
        tenancy.activate(world.practice_a.pk, world.alice.pk)
        _token, self.token = accounts.api_token_create(
            person=world.alice, practice=world.practice_a, name="retries"
        )
        self.client = Client()

    def post(self, path: str, body: dict[str, Any], key: str = "") -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}
        if key:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return self.client.post(f"/api/v1/{path}", body, content_type="application/json", **headers)


def test_a_consultation_sent_twice_with_one_key_is_stored_once(world: World) -> None:
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    body = {"reason": "Toux", "kind": "office"}
    first = api.post(path, body, key="consultation-1")
    again = api.post(path, body, key="consultation-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul, reason="Toux").count() == 1
    assert AuditEvent.objects.filter(action="encounter.create", patient_id=world.paul.pk).count()
    assert (
        AuditEvent.objects.filter(
            action="encounter.create", target=f"encounter:{first.json()['id']}"
        ).count()
        == 1
    )
    # Without a key, the same request is a new consultation (the client's choice).
    assert api.post(path, body).status_code == 201
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul, reason="Toux").count() == 2


@pytest.mark.usefixtures("fee_schedules")
def test_an_invoice_sent_twice_with_one_key_takes_one_number(world: World) -> None:
    api = Api(world)
    body = {
        "practitioner": world.alice.pk,
        "service_date": timezone.localdate().isoformat(),
        "lines": [{"code": "G"}],
    }
    path = f"patients/{world.paul.pk}/invoices/"
    first = api.post(path, body, key="invoice-1")
    again = api.post(path, body, key="invoice-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["reference"] == first.json()["reference"]
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Invoice.objects.filter(patient_id=world.paul.pk).count() == 1
    assert InvoiceCounter.objects.get().last_number == 1
    second = api.post(path, body, key="invoice-2")
    assert second.json()["reference"] != first.json()["reference"]
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert InvoiceCounter.objects.get().last_number == 2


def test_a_refused_write_is_not_remembered_and_a_key_serves_one_request_only(
    world: World,
) -> None:
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    refused = api.post(path, {"kind": "office"}, key="k")  # no reason: 400
    assert refused.status_code == 400
    corrected = api.post(path, {"reason": "Fièvre", "kind": "office"}, key="k")
    assert corrected.status_code == 201  # the refusal was not stored as the answer
    elsewhere = api.post(f"patients/{world.paul.pk}/allergies/", {"substance": "Pénicilline"}, "k")
    assert elsewhere.status_code == 400
    assert "Idempotency-Key" in elsewhere.json()["error"]["fields"]
    too_long = api.post(path, {"reason": "Fièvre", "kind": "office"}, key="x" * 65)
    assert too_long.status_code == 400
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert Encounter.objects.filter(patient=world.paul, reason="Fièvre").count() == 1


def test_one_person_key_does_not_replay_another_person_answer(world: World) -> None:
    """Keys belong to a person in a practice: Bob's "1" is not Alice's "1"."""
    alice = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    assert alice.post(path, {"reason": "Alice", "kind": "office"}, key="1").status_code == 201
    tenancy.activate(world.practice_a.pk, world.bob.pk)
    _token, bob_token = accounts.api_token_create(
        person=world.bob, practice=world.practice_a, name="bob"
    )
    bob = Client().post(
        f"/api/v1/{path}",
        {"reason": "Bob", "kind": "office"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {bob_token}",
        HTTP_IDEMPOTENCY_KEY="1",
    )
    # Bob is not in Paul's care team: his own request is judged (and refused), Alice's
    # stored answer is never handed to him.
    assert bob.status_code == 403
    assert "Alice" not in bob.content.decode()


def test_a_replay_is_a_read_audited_on_the_patient_trail(world: World) -> None:
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    first = api.post(path, {"reason": "Angine", "kind": "office"}, key="replayed")
    again = api.post(path, {"reason": "Angine", "kind": "office"}, key="replayed")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    replay = AuditEvent.objects.get(action="api.replay")
    assert (replay.actor_id, replay.patient_id, replay.outcome) == (
        world.alice.pk,
        world.paul.pk,
        "success",
    )
    assert replay.target == f"POST /api/v1/{path}"
    assert replay.category == "clinical"
    stored = IdempotentRequest.objects.get(key="replayed")
    assert stored.patients == [[world.paul.pk, "clinical"]]
    # ...and it is on what the patient can print of who looked at the record.
    _patient, lines = access_report(actor=world.actor(world.sam), patient_id=world.paul.pk)
    replays = [line for line in lines if line.event.action == "api.replay"]
    assert [line.who for line in replays] == ["Dr Alice Arnaud, médecin généraliste"]
    assert "a retry" in replays[0].what or "nouvel essai" in replays[0].what


def test_a_replay_is_refused_once_the_patient_has_excluded_the_writer(world: World) -> None:
    """The right to say no holds for an answer already given: after Paul excludes Alice
    (even as his GP), her retry does not hand his consultation back to her."""
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    body = {"reason": "Confidentiel", "kind": "office"}
    assert api.post(path, body, key="before-no").status_code == 201
    choices.restriction_add(
        actor=world.actor(world.sam),
        patient_id=world.paul.pk,
        person_id=world.alice.pk,
        source="formulaire signé n° 7",
    )
    again = api.post(path, body, key="before-no")
    assert again.status_code == 403
    assert "Confidentiel" not in again.content.decode()
    assert "Idempotent-Replayed" not in again
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert not AuditEvent.objects.filter(action="api.replay").exists()
    denial = AuditEvent.objects.filter(action="access.denied", actor_id=world.alice.pk).get()
    assert denial.patient_id == world.paul.pk


def test_answers_past_their_retention_are_purged_by_the_worker(world: World, settings) -> None:
    api = Api(world)
    path = f"patients/{world.paul.pk}/encounters/"
    assert api.post(path, {"reason": "Ancienne", "kind": "office"}, key="old").status_code == 201
    assert api.post(path, {"reason": "Récente", "kind": "office"}, key="new").status_code == 201
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    days = settings.CARNET_IDEMPOTENCY_DAYS
    IdempotentRequest.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(days=days, minutes=1)
    )
    tenancy.activate(None)
    call_command("exchange")
    tenancy.activate(world.practice_a.pk, world.alice.pk)
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
    # The forgotten key is a new request again; the kept one still replays.
    assert api.post(path, {"reason": "Ancienne", "kind": "office"}, key="old").status_code == 201
    kept = api.post(path, {"reason": "Récente", "kind": "office"}, key="new")
    assert kept["Idempotent-Replayed"] == "true"
    assert verify_chains().ok


def test_the_openapi_schema_declares_the_key_on_every_practice_write(world: World) -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    writes = {
        (path, method): operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"} and path.startswith("/api/v1/patients/")
    }
    assert len(writes) > 10
    for (path, method), operation in writes.items():
        headers = [p for p in operation.get("parameters", []) if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"], (path, method)
        assert headers[0]["schema"]["maxLength"] == 64
    reads = [ops["get"] for ops in schema["paths"].values() if "get" in ops]
    assert not any(p["name"] == "Idempotency-Key" for op in reads for p in op.get("parameters", []))
